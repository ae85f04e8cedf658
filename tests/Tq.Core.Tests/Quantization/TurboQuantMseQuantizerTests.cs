using Tq.Core.Quantization;
using static Tq.Core.Tests.Quantization.QuantizerTestData;
using Tq.Core.Tensors;

namespace Tq.Core.Tests.Quantization;

public sealed class TurboQuantMseQuantizerTests
{
    public static TheoryData<int, double, int> PathCases()
    {
        var data = new TheoryData<int, double, int>();
        foreach (int d in new[] { 64, 80, 128, 256 })
        {
            foreach (double b in new[] { 1, 2, 2.5, 3, 3.5, 4 })
            {
                foreach (SimdPath p in SimdPaths.Supported)
                {
                    data.Add(d, b, (int)p);
                }
            }
        }

        return data;
    }

    [Theory]
    [InlineData(128, 1, 20_000)]
    [InlineData(128, 2, 20_000)]
    [InlineData(128, 3, 20_000)]
    [InlineData(128, 4, 20_000)]
    [InlineData(96, 2, 5_000)]
    [InlineData(96, 4, 5_000)]
    public void Encode_GaussianVectors_NmseUnderTurboQuantBound(int dimension, int bits, int vectors)
    {
        var quantizer = new TurboQuantMseQuantizer(dimension, bits, seed: 1);
        float[] x = Gaussian(vectors * dimension, 100);
        float[] y = RoundTrip(quantizer, x);
        double nmse = Nmse(x, y);
        Assert.True(nmse < TurboQuantBound(bits), $"NMSE {nmse} ≥ bound {TurboQuantBound(bits)}");
        Assert.True(nmse > Math.Pow(4, -bits), $"NMSE {nmse} under the Shannon bound: measurement is wrong");
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(2.5)]
    [InlineData(3.5)]
    public void Encode_FractionalRate_NmseBetweenNeighbouringIntegerRates(double bits)
    {
        float[] x = Gaussian(4000 * 128, 101);
        double low = Nmse(x, RoundTrip(new TurboQuantMseQuantizer(128, Math.Floor(bits), 1), x));
        double mid = Nmse(x, RoundTrip(new TurboQuantMseQuantizer(128, bits, 1), x));
        double high = Nmse(x, RoundTrip(new TurboQuantMseQuantizer(128, Math.Ceiling(bits), 1), x));
        Assert.InRange(mid, high, low);
        Assert.Equal(0.5 * (low + high), mid, 0.1 * mid);
    }

    [Theory]
    [MemberData(nameof(PathCases))]
    public void Score_EveryPath_EqualsDotWithDecodedVectors(int dimension, double bits, int path)
    {
        var quantizer = new TurboQuantMseQuantizer(dimension, bits, 3, normCorrection: true, (SimdPath)path);
        const int rows = 37;
        float[] x = Gaussian(rows * dimension, 7);
        var codes = new byte[rows * quantizer.CodeBytesPerVector];
        var norms = new Half[rows];
        quantizer.Encode(x, codes, norms);
        var decoded = new float[x.Length];
        quantizer.Decode(codes, norms, decoded);

        float[] query = Gaussian(dimension, 8);
        var prepared = new float[quantizer.PreparedQueryLength];
        quantizer.PrepareQuery(query, prepared);
        var scores = new float[rows];
        quantizer.Score(prepared, codes, norms, scores);
        for (int r = 0; r < rows; r++)
        {
            double expected = Dot(query, decoded.AsSpan(r * dimension, dimension));
            Assert.Equal(expected, scores[r], 2e-3 * Math.Sqrt(dimension));
        }
    }

    [Theory]
    [MemberData(nameof(PathCases))]
    public void AccumulateValues_EveryPath_EqualsWeightedSumOfDecodedVectors(int dimension, double bits, int path)
    {
        var quantizer = new TurboQuantMseQuantizer(dimension, bits, 4, normCorrection: true, (SimdPath)path);
        const int rows = 300; // more than one internal block of rows
        float[] x = Gaussian(rows * dimension, 9);
        var codes = new byte[rows * quantizer.CodeBytesPerVector];
        var norms = new Half[rows];
        quantizer.Encode(x, codes, norms);
        var decoded = new float[x.Length];
        quantizer.Decode(codes, norms, decoded);
        float[] weights = Gaussian(rows, 10, 0.05f);

        var accumulator = new float[quantizer.PreparedQueryLength];
        quantizer.AccumulateValues(weights.AsSpan(0, 100), codes.AsSpan(0, 100 * quantizer.CodeBytesPerVector), norms.AsSpan(0, 100), accumulator);
        quantizer.AccumulateValues(weights.AsSpan(100), codes.AsSpan(100 * quantizer.CodeBytesPerVector), norms.AsSpan(100), accumulator);
        var output = new float[dimension];
        quantizer.FinishValues(accumulator, output);
        for (int i = 0; i < dimension; i++)
        {
            double expected = 0;
            for (int r = 0; r < rows; r++)
            {
                expected += weights[r] * decoded[(r * dimension) + i];
            }

            Assert.Equal(expected, output[i], 2e-3);
        }
    }

    [Theory]
    [MemberData(nameof(PathCases))]
    public void ScoreGroup_EveryPath_EqualsScorePerQuery(int dimension, double bits, int path)
    {
        var quantizer = new TurboQuantMseQuantizer(dimension, bits, 6, normCorrection: null, (SimdPath)path);
        const int rows = 29;
        float[] x = Gaussian(rows * dimension, 14);
        var codes = new byte[rows * quantizer.CodeBytesPerVector];
        var norms = new Half[rows];
        quantizer.Encode(x, codes, norms);
        foreach (int group in new[] { 1, 2, 7 })
        {
            int length = quantizer.PreparedQueryLength;
            var prepared = new float[group * length];
            for (int g = 0; g < group; g++)
            {
                quantizer.PrepareQuery(Gaussian(dimension, (ulong)(100 + g)), prepared.AsSpan(g * length, length));
            }

            var scores = new float[group * rows];
            quantizer.ScoreGroup(prepared, codes, norms, scores);
            var single = new float[rows];
            for (int g = 0; g < group; g++)
            {
                quantizer.Score(prepared.AsSpan(g * length, length), codes, norms, single);
                for (int r = 0; r < rows; r++)
                {
                    Assert.Equal(single[r], scores[(g * rows) + r], 1e-4f * (1 + Math.Abs(single[r])));
                }
            }
        }

        Assert.Throws<ArgumentException>(() => quantizer.ScoreGroup(new float[quantizer.PreparedQueryLength + 1], codes, norms, new float[rows]));
        Assert.Throws<ArgumentException>(() => quantizer.ScoreGroup(new float[2 * quantizer.PreparedQueryLength], codes, norms, new float[rows]));
    }

    [Theory]
    [InlineData(64, 4)]
    [InlineData(128, 2)]
    [InlineData(128, 3.5)]
    [InlineData(256, 3)]
    public void Encode_EverySimdPath_SameCodesAndNormsAsScalar(int dimension, double bits)
    {
        float[] x = Gaussian(50 * dimension, 12);
        (byte[] expectedCodes, Half[] expectedNorms) = Encode(new TurboQuantMseQuantizer(dimension, bits, 5, true, SimdPath.Scalar), x);
        foreach (SimdPath path in SimdPaths.Supported)
        {
            (byte[] codes, Half[] norms) = Encode(new TurboQuantMseQuantizer(dimension, bits, 5, true, path), x);
            Assert.Equal(expectedCodes, codes);
            Assert.Equal(expectedNorms, norms);
        }
    }

    [Fact]
    public void Encode_SameSeed_SameCodesDifferentSeedDifferentCodes()
    {
        float[] x = Gaussian(20 * 96, 13);
        (byte[] a, _) = Encode(new TurboQuantMseQuantizer(96, 3, 77), x);
        (byte[] b, _) = Encode(new TurboQuantMseQuantizer(96, 3, 77), x);
        (byte[] c, _) = Encode(new TurboQuantMseQuantizer(96, 3, 78), x);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(128, 4)]
    [InlineData(80, 2.5)]
    public void Encode_ZeroVector_NormZeroDecodesToZeroScoresZero(int dimension, double bits)
    {
        var quantizer = new TurboQuantMseQuantizer(dimension, bits);
        var x = new float[2 * dimension];
        x[dimension] = 1; // a non-zero neighbour row
        var codes = new byte[2 * quantizer.CodeBytesPerVector];
        var norms = new Half[2];
        quantizer.Encode(x, codes, norms);
        Assert.Equal(Half.Zero, norms[0]);
        var decoded = new float[x.Length];
        quantizer.Decode(codes, norms, decoded);
        Assert.All(decoded.AsSpan(0, dimension).ToArray(), v => Assert.Equal(0f, v));
        var prepared = new float[quantizer.PreparedQueryLength];
        quantizer.PrepareQuery(Gaussian(dimension, 1), prepared);
        var scores = new float[2];
        quantizer.Score(prepared, codes, norms, scores);
        Assert.Equal(0f, scores[0]);
        Assert.NotEqual(0f, scores[1]);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Encode_NonFiniteInput_ThrowsArgumentExceptionNamingVectors(float bad)
    {
        var quantizer = new TurboQuantMseQuantizer(64, 2);
        float[] x = Gaussian(3 * 64, 1);
        x[64 + 5] = bad;
        var ex = Assert.Throws<ArgumentException>(() => quantizer.Encode(x, new byte[3 * quantizer.CodeBytesPerVector], new Half[3]));
        Assert.Equal("vectors", ex.ParamName);
        Assert.Contains("vector 1, element 5", ex.Message, StringComparison.Ordinal);

        float[] query = Gaussian(64, 2);
        query[3] = bad;
        var qex = Assert.Throws<ArgumentException>(() => quantizer.PrepareQuery(query, new float[quantizer.PreparedQueryLength]));
        Assert.Equal("query", qex.ParamName);
    }

    [Theory]
    [InlineData(128, 0)]
    [InlineData(128, 0.5)]
    [InlineData(128, 2.25)]
    [InlineData(128, 4.5)]
    [InlineData(128, 5)]
    [InlineData(128, double.NaN)]
    [InlineData(1, 2)]
    [InlineData(0, 2)]
    [InlineData(4096, 2)]
    public void Constructor_UnsupportedBitsOrDimension_ThrowsArgumentOutOfRange(int dimension, double bits)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TurboQuantMseQuantizer(dimension, bits));
        Assert.Equal(dimension is < 2 or > TurboQuantMseQuantizer.MaxDimension ? "dimension" : "bits", ex.ParamName);
    }

    [Fact]
    public void Methods_WrongLengths_ThrowArgumentException()
    {
        var quantizer = new TurboQuantMseQuantizer(64, 4);
        Assert.Throws<ArgumentException>(() => quantizer.Encode(new float[65], new byte[32], new Half[1]));
        Assert.Throws<ArgumentException>(() => quantizer.Encode(new float[64], new byte[31], new Half[1]));
        Assert.Throws<ArgumentException>(() => quantizer.Encode(new float[64], new byte[32], new Half[2]));
        Assert.Throws<ArgumentException>(() => quantizer.Score(new float[quantizer.PreparedQueryLength], new byte[64], new Half[1], new float[1]));
        Assert.Throws<ArgumentException>(() => quantizer.PrepareQuery(new float[64], new float[3]));
    }

    [Theory]
    [InlineData(128, 4, 4.125)]
    [InlineData(128, 2, 2.125)]
    [InlineData(128, 3, 3.125)]
    [InlineData(128, 2.5, 2.625)]
    [InlineData(128, 3.5, 3.625)]
    [InlineData(80, 3, 3.2)]
    [InlineData(64, 4, 4.25)]
    public void BitsPerValue_IncludesFp16Norm(int dimension, double bits, double expected)
    {
        var quantizer = new TurboQuantMseQuantizer(dimension, bits);
        Assert.Equal(expected, quantizer.BitsPerValue, 12);
        Assert.Equal((int)Math.Ceiling((expected * dimension - 16) / 8), quantizer.CodeBytesPerVector);
    }

    [Fact]
    public void BitsPerValue_K4V2_AtLeastFiveTimesSmallerThanFp16()
    {
        double k = new TurboQuantMseQuantizer(128, 4).BitsPerValue;
        double v = new TurboQuantMseQuantizer(128, 2).BitsPerValue;
        Assert.True(32 / (k + v) >= 5.0, $"ratio {32 / (k + v)}");
    }

    private static (byte[] Codes, Half[] Norms) Encode(TurboQuantMseQuantizer quantizer, float[] x)
    {
        int rows = x.Length / quantizer.Dimension;
        var codes = new byte[rows * quantizer.CodeBytesPerVector];
        var norms = new Half[rows];
        quantizer.Encode(x, codes, norms);
        return (codes, norms);
    }

    private static float[] RoundTrip(TurboQuantMseQuantizer quantizer, float[] x)
    {
        (byte[] codes, Half[] norms) = Encode(quantizer, x);
        var y = new float[x.Length];
        quantizer.Decode(codes, norms, y);
        return y;
    }
}
