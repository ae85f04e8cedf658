using Tq.Core.Tensors;

namespace Tq.Core.Tests.Tensors;

public sealed unsafe class QuantDotTests
{
    public static TheoryData<GgmlType> Types => GgmlReference.SupportedTypeData();

    internal static byte[] Prepare(GgmlType type, float[] x, out float[] realized)
    {
        ActivationKind kind = ActivationQuantizer.KindFor(type);
        byte[] q = new byte[Math.Max(1, ActivationQuantizer.RowBytes(kind, x.Length))];
        realized = new float[x.Length];
        fixed (float* px = x)
        fixed (byte* pq = q)
        fixed (float* pr = realized)
        {
            ActivationQuantizer.QuantizeRow(kind, px, pq, x.Length);
            ActivationQuantizer.DequantizeRow(kind, pq, pr, x.Length);
        }

        return q;
    }

    internal static float Dot(GgmlType type, byte[] w, byte[] a, int count, SimdPath path)
    {
        fixed (byte* pw = w)
        fixed (byte* pa = a)
        {
            return QuantDot.Dot(type, pw, pa, count, path);
        }
    }

    private static int[] Counts(GgmlType type) => GgmlTypeInfo.BlockSize(type) switch
    {
        1 => [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 64, 65],
        32 => [0, 32, 64, 96, 128, 160, 192, 32 * QuantDot.Blocks32Vector512MinBlocks, 32 * (QuantDot.Blocks32Vector512MinBlocks + 3)],
        _ => [0, 256, 512, 768],
    };

    [Theory]
    [MemberData(nameof(Types))]
    public void Dot_EveryPath_MatchesDequantizedReference(GgmlType type)
    {
        var random = new Random((int)type);
        foreach (int count in Counts(type))
        {
            byte[] w = GgmlReference.RandomRow(type, count, random);
            float[] x = GgmlReference.RandomFloats(count, random, 2f);
            byte[] a = Prepare(type, x, out float[] xr);
            double expected = 0, magnitude = 0;
            for (int i = 0; i < count; i++)
            {
                double p = (double)GgmlReference.Element(type, w, i) * xr[i];
                expected += p;
                magnitude += Math.Abs(p);
            }

            magnitude += MinTermRounding(type, w, a, count);
            foreach (SimdPath path in SimdPaths.Supported)
            {
                float actual = Dot(type, w, a, count, path);
                Assert.True(Math.Abs(actual - expected) <= (2e-6 * magnitude) + 1e-7, $"{type} {path} n={count}: {actual} vs {expected}");
            }
        }
    }

    /// <summary>
    /// Q4_1/Q5_1 use ggml's Q8_1 sum s = fp16(d·Σq) for the min term, so they differ from the exact sum by up to
    /// |m·s|·2^-11 per block; returned scaled so the relative tolerance covers it.
    /// </summary>
    internal static double MinTermRounding(GgmlType type, byte[] w, byte[] a, int count)
    {
        if (type is not (GgmlType.Q4_1 or GgmlType.Q5_1))
        {
            return 0;
        }

        double total = 0;
        for (int b = 0; b < count / 32; b++)
        {
            float m = GgmlReference.Half(w, (b * GgmlTypeInfo.TypeSize(type)) + 2);
            float s = BitConverter.ToSingle(a, (b * ActivationQuantizer.Block32Bytes) + 4);
            total += Math.Abs(m * s) * Math.Pow(2, -11) / 2e-6;
        }

        return total;
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Dot_VectorPaths_EqualScalarPath(GgmlType type)
    {
        var random = new Random(100 + (int)type);
        foreach (int count in Counts(type))
        {
            byte[] w = GgmlReference.RandomRow(type, count, random);
            float[] x = GgmlReference.RandomFloats(count, random);
            byte[] a = Prepare(type, x, out _);
            float scalar = Dot(type, w, a, count, SimdPath.Scalar);
            foreach (SimdPath path in SimdPaths.Supported)
            {
                float actual = Dot(type, w, a, count, path);
                Assert.True(Math.Abs(actual - scalar) <= 1e-5 * (Math.Abs(scalar) + 1), $"{type} {path} n={count}: {actual} vs {scalar}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Dot_ApproximatesFloatDotOfDequantizedWeights(GgmlType type)
    {
        // The activation quantization error of Q8 is below 1% of the dot product's magnitude.
        var random = new Random(200 + (int)type);
        int count = 4 * 256;
        byte[] w = GgmlReference.RandomRow(type, count, random);
        float[] x = GgmlReference.RandomFloats(count, random);
        byte[] a = Prepare(type, x, out _);
        double exact = 0, magnitude = 0;
        for (int i = 0; i < count; i++)
        {
            double p = (double)GgmlReference.Element(type, w, i) * x[i];
            exact += p;
            magnitude += Math.Abs(p);
        }

        float actual = Dot(type, w, a, count, SimdPath.Auto);
        Assert.True(Math.Abs(actual - exact) <= 0.01 * magnitude, $"{type}: {actual} vs {exact}");
    }

    [Fact]
    public void QuantizeRow_Q8Block32_MatchesGgmlRounding()
    {
        float[] x = Enumerable.Range(0, 32).Select(j => (j - 16) * 0.5f).ToArray(); // amax 8
        byte[] a = Prepare(GgmlType.Q8_0, x, out float[] realized);
        float d = BitConverter.ToSingle(a, 0);
        Assert.Equal((float)(Half)(8f / 127f), d);
        for (int j = 0; j < 32; j++)
        {
            int expected = (int)MathF.Round(x[j] * (127f / 8f), MidpointRounding.ToEven);
            Assert.Equal(expected, (sbyte)a[ActivationQuantizer.Block32QuantsOffset + j]);
            Assert.Equal(d * expected, realized[j]);
        }

        Assert.Equal(Enumerable.Range(0, 32).Sum(j => (sbyte)a[ActivationQuantizer.Block32QuantsOffset + j]), BitConverter.ToInt32(a, 8));
    }

    [Fact]
    public void QuantizeBlocks32_VectorForm_EqualsScalarBitForBit()
    {
        var random = new Random(17);
        float[] x = GgmlReference.RandomFloats(32 * 64, random, 5f);
        for (int b = 0; b < 16; b++)
        {
            // Exact halves of the quantization step: ties must round to even on both paths.
            float amax = 4f;
            x[b * 32] = amax;
            for (int j = 1; j < 32; j++)
            {
                x[(b * 32) + j] = (random.Next(-120, 120) + 0.5f) * amax / 127f;
            }
        }

        x[40 * 32] = 0;
        Array.Clear(x, 50 * 32, 32); // an all-zero block
        byte[] scalar = new byte[64 * ActivationQuantizer.Block32Bytes];
        byte[] vector = new byte[scalar.Length];
        fixed (float* px = x)
        fixed (byte* ps = scalar)
        fixed (byte* pv = vector)
        {
            ActivationQuantizer.QuantizeBlocks32Scalar(px, ps, 64);
            ActivationQuantizer.QuantizeBlocks32Vector(px, pv, 64);
        }

        Assert.Equal(scalar, vector);
    }

    [Fact]
    public void QuantizeBlocksK_VectorForm_EqualsScalarBitForBit()
    {
        var random = new Random(19);
        float[] x = GgmlReference.RandomFloats(256 * 8, random, 5f);
        x[256 + 7] = -9f;
        x[256 + 100] = 9f;   // equal magnitude later: the first (negative) one sets the scale
        Array.Clear(x, 512, 256); // an all-zero block
        for (int j = 0; j < 256; j++)
        {
            x[768 + j] = (random.Next(-120, 120) + 0.5f) * 4f / 127f; // ties
        }

        x[768] = -4f;
        byte[] scalar = new byte[8 * ActivationQuantizer.BlockKBytes];
        byte[] vector = new byte[scalar.Length];
        fixed (float* px = x)
        fixed (byte* ps = scalar)
        fixed (byte* pv = vector)
        {
            ActivationQuantizer.QuantizeBlocksKScalar(px, ps, 8);
            ActivationQuantizer.QuantizeBlocksKVector(px, pv, 8);
        }

        Assert.Equal(scalar, vector);
    }

    [Fact]
    public void QuantizeRow_Q8K_MatchesGgmlReference()
    {
        float[] x = GgmlReference.RandomFloats(512, new Random(5), 4f);
        byte[] a = Prepare(GgmlType.Q4_K, x, out float[] realized);
        for (int b = 0; b < 2; b++)
        {
            int o = b * ActivationQuantizer.BlockKBytes;
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++)
            {
                if (MathF.Abs(x[(b * 256) + j]) > amax)
                {
                    amax = MathF.Abs(x[(b * 256) + j]);
                    max = x[(b * 256) + j];
                }
            }

            float iscale = -127f / max;
            Assert.Equal(1 / iscale, BitConverter.ToSingle(a, o));
            for (int j = 0; j < 256; j++)
            {
                Assert.Equal(Math.Min(127, (int)MathF.Round(iscale * x[(b * 256) + j])), (sbyte)a[o + 4 + j]);
                Assert.InRange(MathF.Abs(realized[(b * 256) + j] - x[(b * 256) + j]), 0, (0.5f * amax / 127) + 1e-6f);
            }

            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int i = 0; i < 16; i++)
                {
                    sum += (sbyte)a[o + 4 + (16 * j) + i];
                }

                Assert.Equal(sum, BitConverter.ToInt16(a, o + 260 + (2 * j)));
            }
        }
    }

    [Fact]
    public void QuantizeRow_NaNActivation_Throws()
    {
        float[] x = new float[256];
        x[3] = float.NaN;
        Assert.Throws<ArgumentException>(() => Prepare(GgmlType.Q8_0, x, out _));
        Assert.Throws<ArgumentException>(() => Prepare(GgmlType.Q6_K, x, out _));
    }
}
