using Tq.Core.Cache;
using Tq.Core.Models;
using Xunit;

namespace Tq.Core.Tests.Cache;

public sealed class TurboQuantKvCacheTests
{
    [Fact]
    public void Store_EveryToken_EncodedOnceAndNeverAgain()
    {
        KvCacheLayout layout = KvCacheBehaviorTests.Layout();
        var options = KvCacheOptions.TurboQuant();
        using var cache = (CompressedKvCache)KvCacheFactory.Create(layout, options);
        var data = new KvCacheBehaviorTests.TokenData(KvCacheBehaviorTests.Capacity, seed: 11);
        KvCacheBehaviorTests.Fill(cache, data, 0, 20, batch: 20);
        int perToken = layout.Layers * layout.KvHeads;
        Assert.Equal((20 - options.SinkTokens) * perToken, cache.EncodedRows);
        for (int p = 20; p < 30; p++)
        {
            long before = cache.EncodedRows;
            KvCacheBehaviorTests.Fill(cache, data, p, 1, batch: 1);
            for (int layer = 0; layer < layout.Layers; layer++)
            {
                KvCacheBehaviorTests.Attend(cache, data, layer, p, 1);
            }

            Assert.Equal(before + perToken, cache.EncodedRows);
        }
    }

    [Theory]
    [InlineData(4.0, 2.0, 0, 0, 52)]
    [InlineData(4.0, 4.0, 4, 8, 68)]
    [InlineData(3.0, 2.0, 4, 8, 44)]
    [InlineData(3.5, 2.5, 4, 1, 52)]
    [InlineData(8.0, 2.0, 4, 8, 68 + 18)]
    public void AllocatedBytes_Exact(double bitsK, double bitsV, int sinks, int window, int rowBytesPerHead)
    {
        KvCacheLayout layout = KvCacheBehaviorTests.Layout();
        var options = new KvCacheOptions { Kind = KvCacheKind.TurboQuant, BitsK = bitsK, BitsV = bitsV, SinkTokens = sinks, RecentWindow = window };
        using var cache = (CompressedKvCache)KvCacheFactory.Create(layout, options);
        long perToken = (long)layout.Layers * layout.KvHeads * rowBytesPerHead;
        long fixedBytes = (long)layout.Layers * layout.KvHeads * (sinks + window) * (layout.KeyLength + layout.ValueLength) * 2;
        Assert.Equal(perToken, cache.BytesPerToken);
        Assert.Equal(fixedBytes, cache.FixedBytes);
        Assert.Equal(fixedBytes + ((layout.Capacity - sinks) * perToken), cache.AllocatedBytes);
        KvCacheFootprint fp = KvCacheFactory.Footprint(layout, options);
        Assert.Equal(cache.AllocatedBytes, fp.BytesFor(layout.Capacity));
        Assert.Equal(perToken, fp.BytesPerToken);
    }

    [Fact]
    public void Footprint_DefaultK4V2AtFullContext_AtMostOneFourPointFifthOfF16()
    {
        // tq-stories-5m's shape: 6 layers, 2 KV heads, head dim 64, context 1024.
        var layout = new KvCacheLayout(6, 4, 2, 64, 64, 1024, new RotaryEmbedding(RopeStyle.Normal, 64, 64, 10000, 1));
        KvCacheFootprint fp = KvCacheFactory.Footprint(layout, KvCacheOptions.TurboQuant());
        Assert.True(fp.CompressionRatio(1024) >= 4.5, $"Compression {fp.CompressionRatio(1024):F3} < 4.5.");
    }

    [Fact]
    public void Create_K4V2AtFullContext_ManagedAllocationMatchesAccountingAndIsAQuarterPointFiveOfF16()
    {
        var layout = new KvCacheLayout(6, 4, 2, 64, 64, 1024, new RotaryEmbedding(RopeStyle.Normal, 64, 64, 10000, 1));
        using (KvCacheFactory.Create(layout, KvCacheOptions.TurboQuant()))
        {
            // warm-up: codebooks and rotations are cached per process
        }

        long f16 = Allocated(() => KvCacheFactory.Create(layout, new KvCacheOptions()), out IKvCache f16Cache);
        long tq = Allocated(() => KvCacheFactory.Create(layout, KvCacheOptions.TurboQuant()), out IKvCache tqCache);
        using (f16Cache)
        using (tqCache)
        {
            // Arrays carry headers and the cache small objects: allow 16 KiB over the exact accounting.
            Assert.InRange(tq, tqCache.AllocatedBytes, tqCache.AllocatedBytes + (16 << 10));
            Assert.InRange(f16, f16Cache.AllocatedBytes, f16Cache.AllocatedBytes + (16 << 10));
            Assert.True((double)f16 / tq >= 4.5, $"Measured allocation: F16 {f16} B, K4/V2 {tq} B, ratio {(double)f16 / tq:F3}.");
        }
    }

    private static long Allocated(Func<IKvCache> create, out IKvCache cache)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        cache = create();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Create_BoundaryLayers_UseBoundaryBits()
    {
        var layout = new KvCacheLayout(6, 4, 2, 64, 64, 16, new RotaryEmbedding(RopeStyle.Normal, 64, 64, 10000, 1));
        using var cache = (CompressedKvCache)KvCacheFactory.Create(layout, new KvCacheOptions { Kind = KvCacheKind.TurboQuant, BoundaryLayers = 2 });
        Assert.Equal(["Q8_0", "Q8_0", "TQ4", "TQ4", "Q8_0", "Q8_0"], cache.KeyCodecs.Select(c => c.Name));
        Assert.Equal(["Q8_0", "Q8_0", "TQ2", "TQ2", "Q8_0", "Q8_0"], cache.ValueCodecs.Select(c => c.Name));
    }

    public static TheoryData<Action<KvCacheOptions>, string> InvalidOptions() => new()
    {
        { o => o.BitsK = 5, nameof(KvCacheOptions.BitsK) },
        { o => o.BitsK = 1, nameof(KvCacheOptions.BitsK) },
        { o => o.BitsV = double.NaN, nameof(KvCacheOptions.BitsV) },
        { o => o.BoundaryBits = 6, nameof(KvCacheOptions.BoundaryBits) },
        { o => { o.BitsK = 3.5; o.KeyResidualQjl = true; }, nameof(KvCacheOptions.KeyResidualQjl) },
        { o => o.SparseValueThreshold = -0.1f, nameof(KvCacheOptions.SparseValueThreshold) },
        { o => o.SparseValueThreshold = float.NaN, nameof(KvCacheOptions.SparseValueThreshold) },
        { o => o.SinkTokens = -1, nameof(KvCacheOptions.SinkTokens) },
        { o => o.RecentWindow = -1, nameof(KvCacheOptions.RecentWindow) },
        { o => o.BoundaryLayers = -2, nameof(KvCacheOptions.BoundaryLayers) },
        { o => o.Kind = (KvCacheKind)7, nameof(KvCacheOptions.Kind) },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_BadSetting_ThrowsNamingIt(Action<KvCacheOptions> change, string name)
    {
        var options = KvCacheOptions.TurboQuant();
        change(options);
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(options.Validate);
        Assert.Equal(name, e.ParamName);
    }

    [Fact]
    public void Validate_Defaults_Pass() => KvCacheOptions.TurboQuant().Validate();
}
