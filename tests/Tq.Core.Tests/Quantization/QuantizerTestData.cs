using Tq.Core.Quantization;

namespace Tq.Core.Tests.Quantization;

internal static class QuantizerTestData
{
    public static float[] Gaussian(int count, ulong seed, float scale = 1)
    {
        var random = new DeterministicRandom(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            x[i] = (float)random.NextGaussian() * scale;
        }

        return x;
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }

    public static double Nmse(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double error = 0, energy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double e = x[i] - y[i];
            error += e * e;
            energy += (double)x[i] * x[i];
        }

        return error / energy;
    }

    public static double TurboQuantBound(double bits) => Math.Sqrt(3) * Math.PI / 2 * Math.Pow(4, -bits);
}
