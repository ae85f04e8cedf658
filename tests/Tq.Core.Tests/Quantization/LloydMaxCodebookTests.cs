using Tq.Core.Quantization;

namespace Tq.Core.Tests.Quantization;

public sealed class LloydMaxCodebookTests
{
    public static TheoryData<int, int> DimensionsAndBits()
    {
        var data = new TheoryData<int, int>();
        foreach (int d in new[] { 2, 3, 64, 80, 96, 112, 128, 256 })
        {
            for (int b = 1; b <= 4; b++)
            {
                data.Add(d, b);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DimensionsAndBits))]
    public void Get_AnyDimension_SortedSymmetricWithMidpointBoundaries(int dimension, int bits)
    {
        var book = LloydMaxCodebook.Get(dimension, bits);
        ReadOnlySpan<double> c = book.Centroids;
        Assert.Equal(1 << bits, c.Length);
        Assert.Equal((1 << bits) - 1, book.Boundaries.Length);
        for (int i = 0; i < c.Length; i++)
        {
            Assert.Equal(-c[i], c[c.Length - 1 - i], 14);
            Assert.InRange(c[i], -1, 1);
            if (i > 0)
            {
                Assert.True(c[i] > c[i - 1]);
                Assert.Equal(0.5 * (c[i - 1] + c[i]), book.Boundaries[i - 1], 15);
            }
        }

        Assert.True(book.Iterations < 200_000, "Lloyd iterations did not converge");
        Assert.True(book.Distortion > 0);
    }

    [Theory]
    [InlineData(1, new[] { 0.7979 })]
    [InlineData(2, new[] { 0.4528, 1.5104 })]
    [InlineData(3, new[] { 0.2451, 0.7560, 1.3440, 2.1520 })]
    [InlineData(4, new[] { 0.1284, 0.3881, 0.6568, 0.9424, 1.2562, 1.6181, 2.0690, 2.7326 })]
    public void Get_LargeDimension_MatchesGaussianLloydMaxScaled(int bits, double[] positive)
    {
        const int d = 16384;
        var book = LloydMaxCodebook.Get(d, bits);
        ReadOnlySpan<double> c = book.Centroids;
        int half = c.Length / 2;
        for (int i = 0; i < positive.Length; i++)
        {
            Assert.Equal(positive[i], c[half + i] * Math.Sqrt(d), 2e-3 * Math.Max(1, positive[i]) + 6e-4);
        }
    }

    [Fact]
    public void Get_OneBit_IsExactMeanAbsoluteValue()
    {
        // For d = 3 the coordinate is uniform on [−1, 1]: centroids ±1/2, distortion 1/12.
        var book = LloydMaxCodebook.Get(3, 1);
        Assert.Equal(0.5, book.Centroids[1], 12);
        Assert.Equal(1.0 / 12, book.Distortion, 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Distortion_HeadDimension_UnderTurboQuantBound(int bits)
    {
        var book = LloydMaxCodebook.Get(128, bits);
        double unitNmse = book.Distortion * 128;
        Assert.True(unitNmse < Math.Sqrt(3) * Math.PI / 2 * Math.Pow(4, -bits), $"NMSE {unitNmse}");
        Assert.True(unitNmse > Math.Pow(4, -bits), $"NMSE {unitNmse} below the Shannon bound");
    }

    [Fact]
    public void Get_SameKeyFromManyThreads_ReturnsOneInstance()
    {
        var books = new LloydMaxCodebook[16];
        Parallel.For(0, books.Length, i => books[i] = LloydMaxCodebook.Get(200, 3));
        Assert.All(books, b => Assert.Same(books[0], b));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(0, 2)]
    [InlineData(128, 0)]
    [InlineData(128, 5)]
    public void Get_Unsupported_ThrowsArgumentOutOfRange(int dimension, int bits)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LloydMaxCodebook.Get(dimension, bits));
        Assert.Contains(dimension is < 2 ? "dimension" : "bits", ex.ParamName, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_Value_ReturnsNearestCentroid()
    {
        var book = LloydMaxCodebook.Get(128, 3);
        for (double x = -0.4; x <= 0.4; x += 0.001)
        {
            int code = book.Encode(x);
            for (int k = 0; k < book.Centroids.Length; k++)
            {
                Assert.True(Math.Abs(x - book.Centroids[code]) <= Math.Abs(x - book.Centroids[k]) + 1e-15);
            }
        }
    }
}
