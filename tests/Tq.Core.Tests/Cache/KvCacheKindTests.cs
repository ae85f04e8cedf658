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
