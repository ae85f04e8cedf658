using Tq.Core.Cache;

namespace Tq.Core.Tests.Cache;

// Every cache kind runs the one behavioural suite (KvCacheBehaviorTests). Bounds are measured worst cases with margin
// (worst cosine / worst absolute error when the suites were merged): F16 0.99999 / 7e-4, Q8_0 0.99996 / 3e-3,
// K4/V2 0.953 / 0.08, K4/V4 0.996 / 0.02, K4/V2 window 4 0.950 / 0.14, K4/V4 window 4 0.995 / 0.03,
// pre-RoPE K4/V4 without FP16 rows 0.995 / 0.20, K3/V2.5 QJL sparse 0.967 / 0.06. 2-bit values of head dim 16 are coarse.
public sealed class F16FlashKvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.9999;

    // FP16 keys, values, query and accumulator: a few FP16 ulps of values in [-1, 1].
    protected override float Tolerance => 4e-3f;

    internal override KvCacheOptions Options { get; } = new();

    internal override IKvCache Create(KvCacheLayout layout) => new F16KvCache(layout) { Mode = AttentionMode.Flash };
}

public sealed class F16TwoPassKvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.9999;

    protected override float Tolerance => 4e-3f;

    internal override KvCacheOptions Options { get; } = new();

    internal override IKvCache Create(KvCacheLayout layout) => new F16KvCache(layout) { Mode = AttentionMode.TwoPass };
}

public sealed class Q8KvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.999;

    protected override float Tolerance => 0.01f;

    internal override KvCacheOptions Options { get; } = new() { Kind = KvCacheKind.Q8_0 };
}

public sealed class TurboQuantKvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.95;

    protected override float Tolerance => 0.2f;

    internal override KvCacheOptions Options { get; } = KvCacheOptions.TurboQuant(4, 2);
}

public sealed class TurboQuantK4V4KvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.99;

    protected override float Tolerance => 0.05f;

    internal override KvCacheOptions Options { get; } = KvCacheOptions.TurboQuant(4, 4);
}

// A 4-token window: most rows are compressed even at the suite's small capacities.
public sealed class TurboQuantK4V2Window4KvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.93;

    protected override float Tolerance => 0.2f;

    internal override KvCacheOptions Options { get; } = new() { Kind = KvCacheKind.TurboQuant, RecentWindow = 4 };
}

public sealed class TurboQuantK4V4Window4KvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.99;

    protected override float Tolerance => 0.05f;

    internal override KvCacheOptions Options { get; } = new() { Kind = KvCacheKind.TurboQuant, BitsK = 4, BitsV = 4, RecentWindow = 4 };
}

public sealed class TurboQuantPreRopeKvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.99;

    protected override float Tolerance => 0.3f;

    internal override KvCacheOptions Options { get; } =
        new() { Kind = KvCacheKind.TurboQuant, BitsV = 4, PreRopeKeys = true, SinkTokens = 0, RecentWindow = 0 };
}

public sealed class TurboQuantQjlSparseKvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.95;

    protected override float Tolerance => 0.2f;

    internal override KvCacheOptions Options { get; } =
        new() { Kind = KvCacheKind.TurboQuant, BitsK = 3, BitsV = 2.5, KeyResidualQjl = true, SparseValueThreshold = 0.001f };
}
