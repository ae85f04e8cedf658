using Tq.Core.Diagnostics;
using Tq.Core.Quantization;

namespace Tq.Core.Tests.Diagnostics;

public sealed class QuantizerEvaluatorTests
{
    [Theory]
    [InlineData((int)EvaluationData.Gaussian, (int)QuantizerVariant.MseNormCorrected, 4)]
    [InlineData((int)EvaluationData.HeavyTailed, (int)QuantizerVariant.MseRawNorm, 2)]
    [InlineData((int)EvaluationData.Gaussian, (int)QuantizerVariant.Prod, 3)]
    public void Evaluate_ShortSlice_FiguresConsistentWithBounds(int dataValue, int variantValue, int bits)
    {
        var data = (EvaluationData)dataValue;
        var variant = (QuantizerVariant)variantValue;
        const int d = 128, n = 2000;
        float[] x = QuantizerEvaluator.Generate(data, n, d, 1);
        float[] q = QuantizerEvaluator.Generate(EvaluationData.Gaussian, n, d, 2);
        QuantizerReport report = QuantizerEvaluator.Evaluate(variant, bits, d, data, x, q, 3);
        Assert.Equal(n, report.Vectors);
        Assert.InRange(report.Nmse, report.ShannonBound, variant == QuantizerVariant.Prod ? 1.0 : report.TurboQuantBound);
        Assert.Equal(-10 * Math.Log10(report.Nmse), report.SnrDb, 9);
        Assert.InRange(report.MeanCosine, 1 - report.Nmse, 1);
        Assert.Equal(16 / report.BitsPerValue, report.CompressionVsFp16, 12);
        Assert.True(report.EncodeVectorsPerSecond > 0);
        Assert.InRange(Math.Abs(report.InnerProductBias), 0, 0.2);
    }

    [Fact]
    public void Generate_HeavyTailed_HasOutlierChannels()
    {
        const int d = 64, n = 500;
        float[] x = QuantizerEvaluator.Generate(EvaluationData.HeavyTailed, n, d, 4);
        double outlier = 0, normal = 0;
        for (int r = 0; r < n; r++)
        {
            outlier += x[(r * d) + 3] * x[(r * d) + 3];
            normal += x[(r * d) + 4] * x[(r * d) + 4];
        }

        Assert.InRange(outlier / normal, 50, 200); // ×10 in amplitude
    }

    [Fact]
    public void NormCorrection_Default_OnFromThreeBits()
    {
        Assert.False(new TurboQuantMseQuantizer(64, 2).NormCorrection);
        Assert.False(new TurboQuantMseQuantizer(64, 2.5).NormCorrection);
        Assert.True(new TurboQuantMseQuantizer(64, 3).NormCorrection);
        Assert.True(new TurboQuantMseQuantizer(64, 4).NormCorrection);
    }
}
