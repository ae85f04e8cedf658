using Tq.Core.Cache;

namespace Tq.Core.Tests.Cache;

public sealed class F16KvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.9999;

    internal override IKvCache Create(KvCacheLayout layout) => KvCacheFactory.Create(layout, new KvCacheOptions());
}

public sealed class Q8KvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.999;

    internal override IKvCache Create(KvCacheLayout layout) => KvCacheFactory.Create(layout, new KvCacheOptions { Kind = KvCacheKind.Q8_0 });
}

public sealed class TurboQuantKvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.95;

    internal override IKvCache Create(KvCacheLayout layout) => KvCacheFactory.Create(layout, KvCacheOptions.TurboQuant(4, 2));
}

public sealed class TurboQuantK4V4KvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.99;

    internal override IKvCache Create(KvCacheLayout layout) => KvCacheFactory.Create(layout, KvCacheOptions.TurboQuant(4, 4));
}

public sealed class TurboQuantPreRopeKvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.99;

    internal override IKvCache Create(KvCacheLayout layout) =>
        KvCacheFactory.Create(layout, new KvCacheOptions { Kind = KvCacheKind.TurboQuant, BitsV = 4, PreRopeKeys = true, SinkTokens = 0, RecentWindow = 0 });
}

public sealed class TurboQuantQjlSparseKvCacheBehaviorTests : KvCacheBehaviorTests
{
    protected override double MinCosine => 0.95;

    internal override IKvCache Create(KvCacheLayout layout) =>
        KvCacheFactory.Create(layout, new KvCacheOptions { Kind = KvCacheKind.TurboQuant, BitsK = 3, BitsV = 2.5, KeyResidualQjl = true, SparseValueThreshold = 0.001f });
}

// The engine's shared suite (head dim 16, values in [-1, 1], absolute tolerance vs exact attention) for the compressed kinds.
// 2-bit values of head dim 16 are coarse (measured worst 0.11 absolute), hence the looser K4/V2 bound.
// A 4-token window keeps the FP16 part small enough for the suite's memory bound at its 32-token capacity.
public sealed class Q8KvCacheEngineSuiteTests : KvCacheBehaviourTests
{
    protected override float Tolerance => 0.01f;

    internal override IKvCache CreateCache(KvCacheLayout layout) => KvCacheFactory.Create(layout, new KvCacheOptions { Kind = KvCacheKind.Q8_0 });
}

public sealed class TurboQuantK4V4EngineSuiteTests : KvCacheBehaviourTests
{
    protected override float Tolerance => 0.05f;

    internal override IKvCache CreateCache(KvCacheLayout layout) =>
        KvCacheFactory.Create(layout, new KvCacheOptions { Kind = KvCacheKind.TurboQuant, BitsK = 4, BitsV = 4, RecentWindow = 4 });
}

public sealed class TurboQuantK4V2EngineSuiteTests : KvCacheBehaviourTests
{
    protected override float Tolerance => 0.2f;

    internal override IKvCache CreateCache(KvCacheLayout layout) =>
        KvCacheFactory.Create(layout, new KvCacheOptions { Kind = KvCacheKind.TurboQuant, RecentWindow = 4 });
}
