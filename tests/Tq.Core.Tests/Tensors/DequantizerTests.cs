using Tq.Core.Tensors;

namespace Tq.Core.Tests.Tensors;

public sealed class DequantizerTests
{
    public static TheoryData<GgmlType> Types => GgmlReference.SupportedTypeData();

    public static TheoryData<GgmlType> Types32 => new() { GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0 };

    [Theory]
    [MemberData(nameof(Types))]
    public void Dequantize_RandomBlocks_MatchesGgmlFormulaOnEveryPath(GgmlType type)
    {
        int count = GgmlTypeInfo.BlockSize(type) == 1 ? 45 : 3 * GgmlTypeInfo.BlockSize(type);
        byte[] row = GgmlReference.RandomRow(type, count, new Random(1));
        foreach (SimdPath path in SimdPaths.Supported)
        {
            float[] actual = new float[count];
            Dequantizer.Dequantize(type, row, actual, path);
            for (int e = 0; e < count; e++)
            {
                Assert.Equal(GgmlReference.Element(type, row, e), actual[e]);
            }
        }
    }

    [Fact]
    public void Dequantize_HandBuiltQ4_0_KnownValues()
    {
        byte[] block = new byte[18];
        GgmlReference.PutHalf(block, 0, 0.5f);
        for (int j = 0; j < 16; j++)
        {
            block[2 + j] = (byte)(j | ((15 - j) << 4));
        }

        float[] y = new float[32];
        Dequantizer.Dequantize(GgmlType.Q4_0, block, y);
        for (int j = 0; j < 16; j++)
        {
            Assert.Equal((j - 8) * 0.5f, y[j]);
            Assert.Equal((7 - j) * 0.5f, y[j + 16]);
        }
    }

    [Fact]
    public void Dequantize_HandBuiltQ8_0_KnownValues()
    {
        byte[] block = new byte[34];
        GgmlReference.PutHalf(block, 0, 0.25f);
        for (int j = 0; j < 32; j++)
        {
            block[2 + j] = (byte)(sbyte)(j - 16);
        }

        float[] y = new float[32];
        Dequantizer.Dequantize(GgmlType.Q8_0, block, y);
        Assert.Equal(Enumerable.Range(0, 32).Select(j => (j - 16) * 0.25f), y);
    }

    [Fact]
    public void Dequantize_HandBuiltQ4_K_KnownValues()
    {
        // Sub-block j has scale j + 1 and min j; 6-bit values above 15 exercise the high bits of the packing.
        int[] scales = [1, 2, 3, 40, 5, 6, 63, 17];
        int[] mins = [0, 1, 2, 3, 50, 5, 6, 33];
        byte[] block = new byte[144];
        GgmlReference.PutHalf(block, 0, 0.5f);
        GgmlReference.PutHalf(block, 2, 0.25f);
        for (int j = 0; j < 4; j++)
        {
            block[4 + j] = (byte)((scales[j] & 63) | ((scales[j + 4] >> 4) << 6));
            block[4 + j + 4] = (byte)((mins[j] & 63) | ((mins[j + 4] >> 4) << 6));
            block[4 + j + 8] = (byte)((scales[j + 4] & 0xF) | ((mins[j + 4] & 0xF) << 4));
        }

        for (int i = 0; i < 128; i++)
        {
            block[16 + i] = (byte)((i % 16) | ((15 - (i % 16)) << 4));
        }

        float[] y = new float[256];
        Dequantizer.Dequantize(GgmlType.Q4_K, block, y);
        for (int e = 0; e < 256; e++)
        {
            int sub = e / 32;
            int l = e % 32;
            int q = sub % 2 == 0 ? l % 16 : 15 - (l % 16);
            Assert.Equal((0.5f * scales[sub] * q) - (0.25f * mins[sub]), y[e]);
        }
    }

    [Fact]
    public void Dequantize_HandBuiltQ6_K_KnownValues()
    {
        // All quants 33 (= +1 after the offset of 32), scales 1..16: element e is d·scale[e/16].
        byte[] block = new byte[210];
        for (int i = 0; i < 128; i++)
        {
            block[i] = 0x11; // low nibbles 1
        }

        for (int i = 0; i < 64; i++)
        {
            block[128 + i] = 0b10101010; // high bits 2 for every group: q = 1 | 2 << 4 = 33
        }

        for (int j = 0; j < 16; j++)
        {
            block[192 + j] = (byte)(sbyte)(j + 1);
        }

        GgmlReference.PutHalf(block, 208, 0.5f);
        float[] y = new float[256];
        Dequantizer.Dequantize(GgmlType.Q6_K, block, y);
        for (int e = 0; e < 256; e++)
        {
            Assert.Equal(0.5f * ((e / 16) + 1), y[e]);
        }
    }

    [Theory]
    [MemberData(nameof(Types32))]
    public void Dequantize_ReferenceQuantized_RoundTripsWithinOneStep(GgmlType type)
    {
        float[] x = GgmlReference.RandomFloats(32 * 8, new Random(7), 3f);
        byte[] q = GgmlReference.Quantize(type, x);
        float[] y = new float[x.Length];
        Dequantizer.Dequantize(type, q, y);
        for (int b = 0; b < 8; b++)
        {
            float step = MathF.Abs(GgmlReference.Half(q, b * GgmlTypeInfo.TypeSize(type)));
            // Half a step, plus the FP16 rounding of the scale times the largest quant (127 for Q8_0); a full step at the clamped edge of Q4_0/Q5_0.
            float bound = ((type is GgmlType.Q4_0 or GgmlType.Q5_0 ? 1.01f : 0.57f) * step) + 1e-6f;
            for (int j = 0; j < 32; j++)
            {
                Assert.InRange(MathF.Abs(y[(b * 32) + j] - x[(b * 32) + j]), 0, bound);
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.IQ2_XXS)]
    [InlineData(GgmlType.IQ4_NL)]
    [InlineData(GgmlType.Q8_1)]
    [InlineData(GgmlType.MXFP4)]
    public void Dequantize_UnsupportedType_ThrowsNamingIt(GgmlType type)
    {
        var ex = Assert.Throws<NotSupportedException>(() => Dequantizer.Dequantize(type, new byte[1024], new float[256]));
        Assert.Contains(type.ToString(), ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<NotSupportedException>(() => ActivationQuantizer.KindFor(type));
        Assert.Contains(type.ToString(), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dequantize_PartialBlockOrShortSource_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Dequantizer.Dequantize(GgmlType.Q4_K, new byte[144], new float[100]));
        Assert.Throws<ArgumentException>(() => Dequantizer.Dequantize(GgmlType.Q8_0, new byte[33], new float[32]));
    }
}
