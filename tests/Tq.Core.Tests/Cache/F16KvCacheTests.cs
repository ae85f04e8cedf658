using Tq.Core.Cache;
using Xunit;

namespace Tq.Core.Tests.Cache;

public sealed class F16KvCacheFlashTests : KvCacheBehaviourTests
{
    // FP16 keys, values, query and accumulator: a few FP16 ulps of values in [-1, 1].
    protected override float Tolerance => 4e-3f;

    internal override IKvCache CreateCache(KvCacheLayout layout) => new F16KvCache(layout) { Mode = AttentionMode.Flash };

    [Fact]
    public void BytesPerToken_IsTwoBytesPerValue()
    {
        using IKvCache cache = CreateCache(Layout(capacity: 10));
        Assert.Equal(2L * 2 * 2 * (16 + 16), cache.BytesPerToken);
        Assert.Equal(cache.BytesPerToken * 10, cache.AllocatedBytes);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    [InlineData(-3.14159f)]
    [InlineData(1000.1234f)]
    [InlineData(0.3337f)]
    public unsafe void MadRoundHalf_EqualsScalarHalfRounding(float start)
    {
        for (int n = 0; n <= 40; n++)
        {
            float[] acc = [.. Enumerable.Range(0, n).Select(i => start + (i * 0.37f))];
            float[] v = [.. Enumerable.Range(0, n).Select(i => (i * 0.11f) - 1.7f)];
            float[] expected = [.. acc.Select((a, i) => (float)(Half)MathF.FusedMultiplyAdd(v[i], 0.77f, a))];
            fixed (float* pa = acc)
            fixed (float* pv = v)
            {
                F16KvCache.MadRoundHalf(pa, pv, 0.77f, n, accumulate: true);
            }

            Assert.Equal(expected, acc);
        }
    }
}

public sealed class F16KvCacheTwoPassTests : KvCacheBehaviourTests
{
    protected override float Tolerance => 4e-3f;

    internal override IKvCache CreateCache(KvCacheLayout layout) => new F16KvCache(layout) { Mode = AttentionMode.TwoPass };
}
