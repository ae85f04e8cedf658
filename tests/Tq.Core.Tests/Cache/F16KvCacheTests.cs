using Tq.Core.Cache;
using Xunit;

namespace Tq.Core.Tests.Cache;

public sealed class F16KvCacheTests
{
    [Fact]
    public void BytesPerToken_IsTwoBytesPerValue()
    {
        using var cache = new F16KvCache(KvCacheBehaviorTests.Layout(capacity: 10, headDim: 16));
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
