using Tq.Core.Tensors;

namespace Tq.Core.Tests.Tensors;

public sealed class TensorMathTests
{
    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        foreach (int n in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 255, 256, 257, 600 })
        {
            data.Add(n);
        }

        return data;
    }

    private static void Near(double expected, float actual, double relative = 1e-5) =>
        Assert.True(Math.Abs(actual - expected) <= (relative * Math.Abs(expected)) + 1e-6, $"{actual} vs {expected}");

    [Theory]
    [MemberData(nameof(Lengths))]
    public void RmsNorm_EveryPath_MatchesDefinition(int n)
    {
        float[] x = GgmlReference.RandomFloats(n, new Random(n), 3f);
        float[] w = GgmlReference.RandomFloats(n, new Random(n + 1));
        double mean = x.Sum(v => (double)v * v) / Math.Max(1, n);
        foreach (SimdPath path in SimdPaths.Supported)
        {
            Assert.Equal(TensorMath.SumOfSquaresDouble(x, SimdPath.Scalar), TensorMath.SumOfSquaresDouble(x, path), 1e-9);
            float[] y = new float[n];
            TensorMath.RmsNorm(x, w, 1e-5f, y, path);
            for (int i = 0; i < n; i++)
            {
                Near(x[i] / Math.Sqrt(mean + 1e-5) * w[i], y[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Activations_MatchDefinitions(int n)
    {
        float[] x = GgmlReference.RandomFloats(n, new Random(n), 6f);
        float[] up = GgmlReference.RandomFloats(n, new Random(n + 2));
        float[] silu = new float[n], swiglu = new float[n], gelu = new float[n], softmax = new float[n];
        TensorMath.Silu(x, silu);
        TensorMath.SwiGlu(x, up, swiglu);
        TensorMath.Gelu(x, gelu);
        TensorMath.Softmax(x, softmax);
        double max = n == 0 ? 0 : x.Max();
        double z = x.Sum(v => Math.Exp(v - max));
        for (int i = 0; i < n; i++)
        {
            double s = x[i] / (1 + Math.Exp(-x[i]));
            Near(s, silu[i]);
            Near(s * up[i], swiglu[i]);
            Near(0.5 * x[i] * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x[i] + (0.044715 * x[i] * x[i] * x[i])))), gelu[i], 1e-4);
            Near(Math.Exp(x[i] - max) / z, softmax[i]);
        }
    }

    [Fact]
    public void Softmax_HugeLogits_DoesNotOverflow()
    {
        float[] x = [1000f, 999f, -1000f];
        float[] y = new float[3];
        TensorMath.Softmax(x, y);
        Near(1 / (1 + Math.Exp(-1)), y[0]);
        Assert.Equal(0f, y[2]);
    }

    [Fact]
    public void ArgMaxAxpyDot_Basic()
    {
        Assert.Equal(-1, TensorMath.ArgMax([]));
        Assert.Equal(1, TensorMath.ArgMax([1f, 5f, 5f, -2f]));
        Assert.Equal(0, TensorMath.ArgMax([-0f, 0f, -1f])); // the first strict maximum, as llama.cpp's greedy sampler
        Assert.Throws<ArgumentException>(() => TensorMath.ArgMax([1f, float.NaN]));
        float[] y = [1f, 2f, 3f];
        TensorMath.Axpy(2f, [1f, 1f, 1f], y);
        Assert.Equal([3f, 4f, 5f], y);
        Assert.Equal(26f, TensorMath.Dot(y, [1f, 2f, 3f]));
        Assert.Throws<ArgumentException>(() => TensorMath.Axpy(1f, [1f], new float[2]));
        Assert.Throws<ArgumentException>(() => TensorMath.RmsNorm(new float[4], new float[3], 1e-5f, new float[4]));
    }
}
