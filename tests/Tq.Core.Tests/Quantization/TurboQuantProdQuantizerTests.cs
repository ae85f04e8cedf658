using Tq.Core.Quantization;
using static Tq.Core.Tests.Quantization.QuantizerTestData;
using Tq.Core.Tensors;

namespace Tq.Core.Tests.Quantization;

public sealed class TurboQuantProdQuantizerTests
{
    [Theory]
    [InlineData(128, 2)]
    [InlineData(128, 4)]
    [InlineData(64, 3)]
    [InlineData(48, 3)] // Haar rotation and projection
    public void Score_OverRandomSeeds_UnbiasedWithVarianceUnderBound(int dimension, int bits)
    {
        const int draws = 600;
        float[] x = Gaussian(dimension, 21);
        float[] q = Gaussian(dimension, 22);
        double truth = Dot(q, x);
        double qq = Dot(q, q), xx = Dot(x, x);
        double sum = 0, sumSquares = 0, bound = 0;
        var codes = Array.Empty<byte>();
        var norm = new Half[1];
        var residual = new Half[1];
        var score = new float[1];
        for (int s = 0; s < draws; s++)
        {
            var quantizer = new TurboQuantProdQuantizer(dimension, bits, (ulong)(1000 + s));
            if (codes.Length != quantizer.CodeBytesPerVector)
            {
                codes = new byte[quantizer.CodeBytesPerVector];
            }

            quantizer.Encode(x, codes, norm, residual);
            var prepared = new float[quantizer.PreparedQueryLength];
            quantizer.PrepareQuery(q, prepared);
            quantizer.Score(prepared, codes, norm, residual, score);
            double error = score[0] - truth;
            sum += error;
            sumSquares += error * error;
            double r = (double)residual[0];
            bound += Math.PI / (2 * dimension) * qq * xx * r * r;
        }

        double mean = sum / draws;
        double variance = (sumSquares / draws) - (mean * mean);
        double standardError = Math.Sqrt(variance / draws);
        Assert.True(Math.Abs(mean) < 4 * standardError, $"mean error {mean}, standard error {standardError}, truth {truth}");
        Assert.True(variance <= bound / draws, $"variance {variance} > bound {bound / draws}");
    }

    [Fact]
    public void QjlScale_LargeDimension_ApproachesGaussianConstant()
    {
        // 1/(d·E|s₁|) → √(π/2)/√d; exact values for d = 2 (E|cos θ| = 2/π) and d = 3 (E|u| = 1/2).
        Assert.Equal(Math.PI / 4, TurboQuantProdQuantizer.QjlScale(2), 12);
        Assert.Equal(2.0 / 3, TurboQuantProdQuantizer.QjlScale(3), 12);
        Assert.Equal(Math.Sqrt(Math.PI / 2) / Math.Sqrt(4096), TurboQuantProdQuantizer.QjlScale(4096), 1e-5);
    }

    [Theory]
    [InlineData(128, 3)]
    [InlineData(96, 2)]
    [InlineData(64, 4)]
    public void Score_EveryPath_EqualsDotWithDecodedVectors(int dimension, int bits)
    {
        const int rows = 41;
        float[] x = Gaussian(rows * dimension, 31);
        float[] query = Gaussian(dimension, 32);
        foreach (SimdPath path in SimdPaths.Supported)
        {
            var quantizer = new TurboQuantProdQuantizer(dimension, bits, 9, path);
            var codes = new byte[rows * quantizer.CodeBytesPerVector];
            var norms = new Half[rows];
            var residuals = new Half[rows];
            quantizer.Encode(x, codes, norms, residuals);
            var decoded = new float[x.Length];
            quantizer.Decode(codes, norms, residuals, decoded);
            var prepared = new float[quantizer.PreparedQueryLength];
            quantizer.PrepareQuery(query, prepared);
            var scores = new float[rows];
            quantizer.Score(prepared, codes, norms, residuals, scores);
            for (int r = 0; r < rows; r++)
            {
                Assert.Equal(Dot(query, decoded.AsSpan(r * dimension, dimension)), scores[r], 3e-3 * Math.Sqrt(dimension));
            }
        }
    }

    [Fact]
    public void Score_ManyVectors_LessBiasedThanMseAtSameRate()
    {
        // At 2 bits the MSE quantizer shrinks inner products (E⟨q, x̂⟩ ≈ (1 − NMSE)·⟨q, x⟩ without norm correction);
        // TurboQuant-prod does not.
        const int d = 128, rows = 4000;
        float[] x = Gaussian(rows * d, 41);
        float[] q = Gaussian(rows * d, 42);
        var prod = new TurboQuantProdQuantizer(d, 2, 3);
        var mse = new TurboQuantMseQuantizer(d, 2, 3, normCorrection: false);
        double slopeProd = Slope(x, q, d, (xi, qi) => ScoreProd(prod, xi, qi));
        double slopeMse = Slope(x, q, d, (xi, qi) => ScoreMse(mse, xi, qi));
        Assert.InRange(slopeProd, 0.97, 1.03);
        Assert.True(Math.Abs(1 - slopeMse) > Math.Abs(1 - slopeProd), $"mse slope {slopeMse}, prod slope {slopeProd}");
    }

    [Fact]
    public void Encode_ZeroVector_ScoresZero()
    {
        var quantizer = new TurboQuantProdQuantizer(64, 3);
        var codes = new byte[quantizer.CodeBytesPerVector];
        var norms = new Half[1];
        var residuals = new Half[1];
        quantizer.Encode(new float[64], codes, norms, residuals);
        var prepared = new float[quantizer.PreparedQueryLength];
        quantizer.PrepareQuery(Gaussian(64, 1), prepared);
        var score = new float[1];
        quantizer.Score(prepared, codes, norms, residuals, score);
        Assert.Equal(0f, score[0]);
        var decoded = new float[64];
        quantizer.Decode(codes, norms, residuals, decoded);
        Assert.All(decoded, v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Constructor_UnsupportedBits_ThrowsArgumentOutOfRange(int bits)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TurboQuantProdQuantizer(128, bits));
        Assert.Equal("bits", ex.ParamName);
    }

    [Fact]
    public void Encode_NaN_ThrowsArgumentException()
    {
        var quantizer = new TurboQuantProdQuantizer(64, 3);
        var x = new float[64];
        x[10] = float.NaN;
        Assert.Throws<ArgumentException>(() => quantizer.Encode(x, new byte[quantizer.CodeBytesPerVector], new Half[1], new Half[1]));
    }

    [Fact]
    public void BitsPerValue_IncludesBothFp16Norms()
    {
        Assert.Equal(4.25, new TurboQuantProdQuantizer(128, 4).BitsPerValue, 12);
    }

    private static double Slope(float[] x, float[] q, int d, Func<float[], float[], float[]> score)
    {
        float[] s = score(x, q);
        double num = 0, den = 0;
        for (int r = 0; r < s.Length; r++)
        {
            double t = Dot(x.AsSpan(r * d, d), q.AsSpan(r * d, d));
            num += s[r] * t;
            den += t * t;
        }

        return num / den;
    }

    private static float[] ScoreProd(TurboQuantProdQuantizer quantizer, float[] x, float[] q)
    {
        int d = quantizer.Dimension, rows = x.Length / d;
        var codes = new byte[rows * quantizer.CodeBytesPerVector];
        var norms = new Half[rows];
        var residuals = new Half[rows];
        quantizer.Encode(x, codes, norms, residuals);
        var prepared = new float[quantizer.PreparedQueryLength];
        var scores = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            quantizer.PrepareQuery(q.AsSpan(r * d, d), prepared);
            quantizer.Score(prepared, codes.AsSpan(r * quantizer.CodeBytesPerVector, quantizer.CodeBytesPerVector), norms.AsSpan(r, 1), residuals.AsSpan(r, 1), scores.AsSpan(r, 1));
        }

        return scores;
    }

    private static float[] ScoreMse(TurboQuantMseQuantizer quantizer, float[] x, float[] q)
    {
        int d = quantizer.Dimension, rows = x.Length / d;
        var codes = new byte[rows * quantizer.CodeBytesPerVector];
        var norms = new Half[rows];
        quantizer.Encode(x, codes, norms);
        var prepared = new float[quantizer.PreparedQueryLength];
        var scores = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            quantizer.PrepareQuery(q.AsSpan(r * d, d), prepared);
            quantizer.Score(prepared, codes.AsSpan(r * quantizer.CodeBytesPerVector, quantizer.CodeBytesPerVector), norms.AsSpan(r, 1), scores.AsSpan(r, 1));
        }

        return scores;
    }
}
