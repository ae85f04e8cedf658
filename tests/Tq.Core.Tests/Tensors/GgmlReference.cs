using Tq.Core.Tensors;

namespace Tq.Core.Tests.Tensors;

/// <summary>
/// Test-side ggml knowledge written independently of the production kernels: per-element decoding formulas read from
/// ggml-quants.c, ggml's reference quantizers for the 32-element types, and random well-formed blocks.
/// </summary>
internal static class GgmlReference
{
    public static readonly GgmlType[] SupportedTypes =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K,
    ];

    public static TheoryData<GgmlType> SupportedTypeData()
    {
        var data = new TheoryData<GgmlType>();
        foreach (GgmlType t in SupportedTypes)
        {
            data.Add(t);
        }

        return data;
    }

    public static float Half(byte[] b, int offset) => (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(b, offset));

    public static void PutHalf(byte[] b, int offset, float value) =>
        BitConverter.TryWriteBytes(b.AsSpan(offset), BitConverter.HalfToUInt16Bits((Half)value));

    /// <summary>Element <paramref name="e"/> of a row, decoded with ggml's formula for the type.</summary>
    public static float Element(GgmlType type, byte[] row, int e)
    {
        int bs = GgmlTypeInfo.BlockSize(type);
        int o = e / bs * GgmlTypeInfo.TypeSize(type);
        int i = e % bs;
        switch (type)
        {
            case GgmlType.F32: return BitConverter.ToSingle(row, 4 * e);
            case GgmlType.F16: return Half(row, 2 * e);
            case GgmlType.BF16: return BitConverter.UInt32BitsToSingle((uint)BitConverter.ToUInt16(row, 2 * e) << 16);
            case GgmlType.Q8_0: return Half(row, o) * (sbyte)row[o + 2 + i];
            case GgmlType.Q4_0: return Half(row, o) * (Nibble(row[o + 2 + (i % 16)], i >= 16) - 8);
            case GgmlType.Q4_1: return (Half(row, o) * Nibble(row[o + 4 + (i % 16)], i >= 16)) + Half(row, o + 2);
            case GgmlType.Q5_0:
                {
                    int q = Nibble(row[o + 6 + (i % 16)], i >= 16) | (int)(((BitConverter.ToUInt32(row, o + 2) >> i) & 1) << 4);
                    return Half(row, o) * (q - 16);
                }

            case GgmlType.Q5_1:
                {
                    int q = Nibble(row[o + 8 + (i % 16)], i >= 16) | (int)(((BitConverter.ToUInt32(row, o + 4) >> i) & 1) << 4);
                    return (Half(row, o) * q) + Half(row, o + 2);
                }

            case GgmlType.Q8_K: return BitConverter.ToSingle(row, o) * (sbyte)row[o + 4 + i];
            case GgmlType.Q2_K:
                {
                    int n = i / 128, j = i % 128 / 32, l = i % 32;
                    int q = (row[o + 16 + (32 * n) + l] >> (2 * j)) & 3;
                    int sc = row[o + (i / 16)];
                    return (Half(row, o + 80) * (sc & 0xF) * q) - (Half(row, o + 82) * (sc >> 4));
                }

            case GgmlType.Q3_K:
                {
                    int n = i / 128, j = i % 128 / 32, l = i % 32;
                    int low = (row[o + 32 + (32 * n) + l] >> (2 * j)) & 3;
                    int high = (row[o + l] >> ((4 * n) + j)) & 1;
                    int s = i / 16;
                    int scaleLow = s < 8 ? row[o + 96 + s] & 0xF : row[o + 96 + s - 8] >> 4;
                    int scaleHigh = (row[o + 96 + 8 + (s % 4)] >> (2 * (s / 4))) & 3;
                    int scale = (scaleLow | (scaleHigh << 4)) - 32;
                    return Half(row, o + 108) * scale * (low - (high != 0 ? 0 : 4));
                }

            case GgmlType.Q4_K:
            case GgmlType.Q5_K:
                {
                    int c = i / 64, hi = i % 64 / 32, l = i % 32;
                    int qsOffset = type == GgmlType.Q4_K ? 16 : 48;
                    int q = Nibble(row[o + qsOffset + (32 * c) + l], hi == 1);
                    if (type == GgmlType.Q5_K)
                    {
                        q |= ((row[o + 16 + l] >> ((2 * c) + hi)) & 1) << 4;
                    }

                    (int sc, int m) = ScaleMin(row, o + 4, i / 32);
                    return (Half(row, o) * sc * q) - (Half(row, o + 2) * m);
                }

            case GgmlType.Q6_K:
                {
                    int n = i / 128, g = i % 128 / 32, l = i % 32;
                    int nib = Nibble(row[o + (64 * n) + l + (32 * (g & 1))], g >= 2);
                    int h = (row[o + 128 + (32 * n) + l] >> (2 * g)) & 3;
                    int scale = (sbyte)row[o + 192 + (8 * n) + (2 * g) + (l / 16)];
                    return Half(row, o + 208) * scale * ((nib | (h << 4)) - 32);
                }

            default: throw new NotSupportedException(type.ToString());
        }
    }

    private static int Nibble(byte b, bool high) => high ? b >> 4 : b & 0xF;

    /// <summary>The 6-bit scale and min of sub-block <paramref name="j"/> from the 12 packed bytes of Q4_K/Q5_K.</summary>
    public static (int Scale, int Min) ScaleMin(byte[] b, int o, int j) => j < 4
        ? (b[o + j] & 63, b[o + j + 4] & 63)
        : ((b[o + j + 4] & 0xF) | ((b[o + j - 4] >> 6) << 4), (b[o + j + 4] >> 4) | ((b[o + j] >> 6) << 4));

    /// <summary>A row of random, well-formed blocks (finite scales of sensible size, random quants).</summary>
    public static byte[] RandomRow(GgmlType type, int count, Random random)
    {
        byte[] row = new byte[GgmlTypeInfo.RowSize(type, count)];
        random.NextBytes(row);
        int bs = GgmlTypeInfo.BlockSize(type);
        int ts = GgmlTypeInfo.TypeSize(type);
        for (int b = 0; b < count / bs; b++)
        {
            int o = b * ts;
            float Scale() => (float)((random.NextDouble() * 0.02) + 0.001);
            switch (type)
            {
                case GgmlType.F32:
                    BitConverter.TryWriteBytes(row.AsSpan(o), (float)((random.NextDouble() * 2) - 1));
                    break;
                case GgmlType.F16:
                    PutHalf(row, o, (float)((random.NextDouble() * 2) - 1));
                    break;
                case GgmlType.BF16:
                    BitConverter.TryWriteBytes(row.AsSpan(o), (ushort)(BitConverter.SingleToUInt32Bits((float)((random.NextDouble() * 2) - 1)) >> 16));
                    break;
                case GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0:
                    PutHalf(row, o, Scale());
                    break;
                case GgmlType.Q4_1 or GgmlType.Q5_1:
                    PutHalf(row, o, Scale());
                    PutHalf(row, o + 2, -Scale());
                    break;
                case GgmlType.Q2_K:
                    PutHalf(row, o + 80, Scale());
                    PutHalf(row, o + 82, Scale());
                    break;
                case GgmlType.Q3_K:
                    PutHalf(row, o + 108, Scale());
                    break;
                case GgmlType.Q4_K or GgmlType.Q5_K:
                    PutHalf(row, o, Scale());
                    PutHalf(row, o + 2, Scale());
                    break;
                case GgmlType.Q6_K:
                    PutHalf(row, o + 208, Scale());
                    break;
                case GgmlType.Q8_K:
                    BitConverter.TryWriteBytes(row.AsSpan(o), Scale());
                    break;
            }
        }

        return row;
    }

    public static float[] RandomFloats(int count, Random random, float scale = 1f)
    {
        float[] x = new float[count];
        for (int i = 0; i < count; i++)
        {
            x[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return x;
    }

    /// <summary>ggml's <c>quantize_row_*_ref</c> for the 32-element types.</summary>
    public static byte[] Quantize(GgmlType type, float[] x)
    {
        int ts = GgmlTypeInfo.TypeSize(type);
        byte[] y = new byte[x.Length / 32 * ts];
        for (int b = 0; b < x.Length / 32; b++)
        {
            ReadOnlySpan<float> v = x.AsSpan(b * 32, 32);
            int o = b * ts;
            float amax = 0, max = 0, min = float.MaxValue, vmax = float.MinValue;
            foreach (float f in v)
            {
                if (MathF.Abs(f) > amax)
                {
                    amax = MathF.Abs(f);
                    max = f;
                }

                min = MathF.Min(min, f);
                vmax = MathF.Max(vmax, f);
            }

            switch (type)
            {
                case GgmlType.Q8_0:
                    {
                        float d = amax / 127, id = d != 0 ? 1 / d : 0;
                        PutHalf(y, o, d);
                        for (int j = 0; j < 32; j++)
                        {
                            y[o + 2 + j] = (byte)(sbyte)MathF.Round(v[j] * id, MidpointRounding.AwayFromZero);
                        }

                        break;
                    }

                case GgmlType.Q4_0 or GgmlType.Q5_0:
                    {
                        int levels = type == GgmlType.Q4_0 ? 8 : 16;
                        float d = max / -levels, id = d != 0 ? 1 / d : 0;
                        PutHalf(y, o, d);
                        uint qh = 0;
                        int qsOffset = type == GgmlType.Q4_0 ? 2 : 6;
                        for (int j = 0; j < 16; j++)
                        {
                            int q0 = Math.Min((2 * levels) - 1, (int)(sbyte)((v[j] * id) + levels + 0.5f));
                            int q1 = Math.Min((2 * levels) - 1, (int)(sbyte)((v[j + 16] * id) + levels + 0.5f));
                            y[o + qsOffset + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
                            qh |= (uint)((q0 >> 4) & 1) << j;
                            qh |= (uint)((q1 >> 4) & 1) << (j + 16);
                        }

                        if (type == GgmlType.Q5_0)
                        {
                            BitConverter.TryWriteBytes(y.AsSpan(o + 2), qh);
                        }

                        break;
                    }

                default:
                    {
                        int levels = type == GgmlType.Q4_1 ? 15 : 31;
                        float d = (vmax - min) / levels, id = d != 0 ? 1 / d : 0;
                        PutHalf(y, o, d);
                        PutHalf(y, o + 2, min);
                        uint qh = 0;
                        int qsOffset = type == GgmlType.Q4_1 ? 4 : 8;
                        for (int j = 0; j < 16; j++)
                        {
                            int q0 = Math.Min(levels, (int)(sbyte)(((v[j] - min) * id) + 0.5f));
                            int q1 = Math.Min(levels, (int)(sbyte)(((v[j + 16] - min) * id) + 0.5f));
                            y[o + qsOffset + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
                            qh |= (uint)((q0 >> 4) & 1) << j;
                            qh |= (uint)((q1 >> 4) & 1) << (j + 16);
                        }

                        if (type == GgmlType.Q5_1)
                        {
                            BitConverter.TryWriteBytes(y.AsSpan(o + 4), qh);
                        }

                        break;
                    }
            }
        }

        return y;
    }
}
