using Tq.Core.Models;
using Xunit;

namespace Tq.Core.Tests.Models;

public sealed class RotaryEmbeddingTests
{
    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 17)]
    [InlineData(true, 5)]
    [InlineData(true, 1000)]
    public void Apply_RotatesPairsByPositionTimesFrequency(bool neox, int position)
    {
        RopeStyle style = neox ? RopeStyle.NeoX : RopeStyle.Normal;
        const int dim = 16, heads = 2;
        var rope = new RotaryEmbedding(style, dim, dim, 10000f, 1f);
        float[] x = [.. Enumerable.Range(0, dim * heads).Select(i => (i * 0.3f) - 2)];
        float[] y = (float[])x.Clone();
        rope.Apply(y, heads, position);
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < dim / 2; i++)
            {
                (int a, int b) = style == RopeStyle.Normal ? (2 * i, (2 * i) + 1) : (i, i + (dim / 2));
                double theta = position * Math.Pow(10000, -2.0 * i / dim);
                double x0 = x[(h * dim) + a], x1 = x[(h * dim) + b];
                Assert.Equal((x0 * Math.Cos(theta)) - (x1 * Math.Sin(theta)), y[(h * dim) + a], 1e-3);
                Assert.Equal((x0 * Math.Sin(theta)) + (x1 * Math.Cos(theta)), y[(h * dim) + b], 1e-3);
            }
        }
    }

    [Fact]
    public void Apply_PartialRotation_LeavesTailUntouched()
    {
        var rope = new RotaryEmbedding(RopeStyle.NeoX, 8, 4, 10000f, 0.5f);
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8];
        rope.Apply(x, 1, 9);
        Assert.Equal([5f, 6, 7, 8], x[4..]);
    }

    [Theory]
    [InlineData(8, 7)]
    [InlineData(8, 10)]
    public void Constructor_BadDimensions_Throws(int headDim, int ropeDims) =>
        Assert.ThrowsAny<ArgumentException>(() => new RotaryEmbedding(RopeStyle.Normal, headDim, ropeDims, 10000f, 1f));

    [Fact]
    public void Apply_FrequencyFactors_DivideTheAngles()
    {
        float[] factors = [1f, 2f, 4f, 8f];
        var scaled = new RotaryEmbedding(RopeStyle.Normal, 8, 8, 10000f, 1f, factors);
        float[] table = new float[8];
        scaled.ComputeTable(12, table);
        for (int i = 0; i < 4; i++)
        {
            double theta = 12 * Math.Pow(10000, -2.0 * i / 8) / factors[i];
            Assert.Equal(Math.Cos(theta), table[2 * i], 1e-5);
            Assert.Equal(Math.Sin(theta), table[(2 * i) + 1], 1e-5);
        }

        Assert.Throws<ArgumentException>(() => new RotaryEmbedding(RopeStyle.Normal, 8, 8, 10000f, 1f, [1f]));
    }
}
