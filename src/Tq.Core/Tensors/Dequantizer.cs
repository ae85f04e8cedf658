namespace Tq.Core.Tensors;

/// <summary>
/// Decodes rows of ggml tensor data to float, with the block layouts and formulas of ggml-quants.c
/// (<c>dequantize_row_*</c>), so a dequantized weight equals llama.cpp's bit for bit.
/// </summary>
internal static unsafe partial class Dequantizer
{
    /// <summary>Whether the kernels (dequantization, dot products, matrix products) support <paramref name="type"/>.</summary>
    public static bool IsSupported(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1
            or GgmlType.Q8_0 or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K => true,
        _ => false,
    };

    /// <summary>Throws <see cref="NotSupportedException"/> naming <paramref name="type"/> when the kernels cannot handle it.</summary>
    public static void EnsureSupported(GgmlType type)
    {
        if (!IsSupported(type))
        {
            throw QuantizationThrow.Unsupported(type);
        }
    }

    /// <summary>Decodes <paramref name="destination"/>.Length elements from <paramref name="source"/>.</summary>
    /// <exception cref="NotSupportedException">The type has no kernel.</exception>
    /// <exception cref="ArgumentException">The length is not whole blocks or the source is too short.</exception>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> source, Span<float> destination, SimdPath path = SimdPath.Auto)
    {
        EnsureSupported(type);
        int count = destination.Length;
        if (count % GgmlTypeInfo.BlockSize(type) != 0)
        {
            throw QuantizationThrow.NotWholeBlocks(type, count, nameof(destination));
        }

        if (source.Length < GgmlTypeInfo.RowSize(type, count))
        {
            throw new ArgumentException($"{source.Length} bytes of {type} hold fewer than {count} elements.", nameof(source));
        }

        fixed (byte* s = source)
        fixed (float* d = destination)
        {
            Dequantize(type, s, d, count, path);
        }
    }

    /// <summary>Pointer form without validation, for kernels that validated once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize(GgmlType type, byte* source, float* destination, int count, SimdPath path)
    {
        if (type is GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K && SimdPaths.Resolve(path) == SimdPath.Vector512)
        {
            Dequantize512(type, source, destination, count);
            return;
        }

        switch (type)
        {
            case GgmlType.F32:
                Buffer.MemoryCopy(source, destination, (long)count * 4, (long)count * 4);
                break;
            case GgmlType.F16:
                FloatConversion.HalfToSingle((ushort*)source, destination, count, path);
                break;
            case GgmlType.BF16:
                FloatConversion.BFloat16ToSingle((ushort*)source, destination, count, path);
                break;
            case GgmlType.Q4_0: Q4_0(source, destination, count / 32); break;
            case GgmlType.Q4_1: Q4_1(source, destination, count / 32); break;
            case GgmlType.Q5_0: Q5_0(source, destination, count / 32); break;
            case GgmlType.Q5_1: Q5_1(source, destination, count / 32); break;
            case GgmlType.Q8_0: Q8_0(source, destination, count / 32); break;
            case GgmlType.Q2_K: Q2_K(source, destination, count / 256); break;
            case GgmlType.Q3_K: Q3_K(source, destination, count / 256); break;
            case GgmlType.Q4_K: Q4_K(source, destination, count / 256); break;
            case GgmlType.Q5_K: Q5_K(source, destination, count / 256); break;
            case GgmlType.Q6_K: Q6_K(source, destination, count / 256); break;
            case GgmlType.Q8_K: Q8_K(source, destination, count / 256); break;
            default: throw QuantizationThrow.Unsupported(type);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Half(byte* p) => FloatConversion.HalfToSingle(*(ushort*)p);

    /// <summary>
    /// The 6-bit scale and min of sub-block <paramref name="j"/> (0..7) of a Q4_K/Q5_K super-block, as ggml's <c>get_scale_min_k4</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ScaleMinK4(int j, byte* q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = q[j] & 63;
            min = q[j + 4] & 63;
        }
        else
        {
            scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>Unpacks the sixteen 6-bit Q3_K scales (still offset by 32), as ggml's kmask1/kmask2 shuffle.</summary>
    internal static void UnpackQ3KScales(byte* packed, sbyte* scales)
    {
        uint a0 = Unsafe.ReadUnaligned<uint>(packed);
        uint a1 = Unsafe.ReadUnaligned<uint>(packed + 4);
        uint tmp = Unsafe.ReadUnaligned<uint>(packed + 8);
        const uint kmask1 = 0x03030303;
        const uint kmask2 = 0x0f0f0f0f;
        uint* aux = (uint*)scales;
        aux[0] = (a0 & kmask2) | (((tmp >> 0) & kmask1) << 4);
        aux[1] = (a1 & kmask2) | (((tmp >> 2) & kmask1) << 4);
        aux[2] = ((a0 >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
        aux[3] = ((a1 >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    }

    private static void Q4_0(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 18, y += 32)
        {
            float d = Half(x);
            byte* qs = x + 2;
            for (int j = 0; j < 16; j++)
            {
                y[j] = ((qs[j] & 0x0F) - 8) * d;
                y[j + 16] = ((qs[j] >> 4) - 8) * d;
            }
        }
    }

    private static void Q4_1(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 20, y += 32)
        {
            float d = Half(x);
            float m = Half(x + 2);
            byte* qs = x + 4;
            for (int j = 0; j < 16; j++)
            {
                y[j] = ((qs[j] & 0x0F) * d) + m;
                y[j + 16] = ((qs[j] >> 4) * d) + m;
            }
        }
    }

    private static void Q5_0(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 22, y += 32)
        {
            float d = Half(x);
            uint qh = Unsafe.ReadUnaligned<uint>(x + 2);
            byte* qs = x + 6;
            for (int j = 0; j < 16; j++)
            {
                int xh0 = (int)(((qh >> j) << 4) & 0x10);
                int xh1 = (int)((qh >> (j + 12)) & 0x10);
                y[j] = (((qs[j] & 0x0F) | xh0) - 16) * d;
                y[j + 16] = (((qs[j] >> 4) | xh1) - 16) * d;
            }
        }
    }

    private static void Q5_1(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 24, y += 32)
        {
            float d = Half(x);
            float m = Half(x + 2);
            uint qh = Unsafe.ReadUnaligned<uint>(x + 4);
            byte* qs = x + 8;
            for (int j = 0; j < 16; j++)
            {
                int xh0 = (int)(((qh >> j) << 4) & 0x10);
                int xh1 = (int)((qh >> (j + 12)) & 0x10);
                y[j] = (((qs[j] & 0x0F) | xh0) * d) + m;
                y[j + 16] = (((qs[j] >> 4) | xh1) * d) + m;
            }
        }
    }

    private static void Q8_0(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 34, y += 32)
        {
            float d = Half(x);
            sbyte* qs = (sbyte*)(x + 2);
            for (int j = 0; j < 32; j++)
            {
                y[j] = qs[j] * d;
            }
        }
    }

    private static void Q2_K(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 84)
        {
            byte* scales = x;
            byte* q = x + 16;
            float d = Half(x + 80);
            float min = Half(x + 82);
            int isc = 0;
            for (int n = 0; n < 256; n += 128)
            {
                int shift = 0;
                for (int j = 0; j < 4; j++)
                {
                    byte sc = scales[isc++];
                    float dl = d * (sc & 0xF);
                    float ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++)
                    {
                        *y++ = (dl * ((q[l] >> shift) & 3)) - ml;
                    }

                    sc = scales[isc++];
                    dl = d * (sc & 0xF);
                    ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++)
                    {
                        *y++ = (dl * ((q[l + 16] >> shift) & 3)) - ml;
                    }

                    shift += 2;
                }

                q += 32;
            }
        }
    }

    private static void Q3_K(byte* x, float* y, int blocks)
    {
        sbyte* scales = stackalloc sbyte[16];
        for (int i = 0; i < blocks; i++, x += 110)
        {
            byte* hm = x;
            byte* q = x + 32;
            UnpackQ3KScales(x + 96, scales);
            float dAll = Half(x + 108);
            int isc = 0;
            int m = 1;
            for (int n = 0; n < 256; n += 128)
            {
                int shift = 0;
                for (int j = 0; j < 4; j++)
                {
                    float dl = dAll * (scales[isc++] - 32);
                    for (int l = 0; l < 16; l++)
                    {
                        *y++ = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                    }

                    dl = dAll * (scales[isc++] - 32);
                    for (int l = 0; l < 16; l++)
                    {
                        *y++ = dl * (((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) != 0 ? 0 : 4));
                    }

                    shift += 2;
                    m <<= 1;
                }

                q += 32;
            }
        }
    }

    private static void Q4_K(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 144)
        {
            float d = Half(x);
            float min = Half(x + 2);
            byte* scales = x + 4;
            byte* q = x + 16;
            for (int isc = 0; isc < 8; isc += 2, q += 32)
            {
                ScaleMinPair(scales, isc, d, min, out float d1, out float m1, out float d2, out float m2);
                for (int l = 0; l < 32; l++)
                {
                    *y++ = (d1 * (q[l] & 0xF)) - m1;
                }

                for (int l = 0; l < 32; l++)
                {
                    *y++ = (d2 * (q[l] >> 4)) - m2;
                }
            }
        }
    }

    // The scales and mins of sub-blocks isc and isc + 1 of a Q4_K/Q5_K super-block, times its d and dmin.
    private static void ScaleMinPair(byte* scales, int isc, float d, float min, out float d1, out float m1, out float d2, out float m2)
    {
        ScaleMinK4(isc, scales, out int sc, out int mn);
        d1 = d * sc;
        m1 = min * mn;
        ScaleMinK4(isc + 1, scales, out sc, out mn);
        d2 = d * sc;
        m2 = min * mn;
    }

    private static void Q5_K(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 176)
        {
            float d = Half(x);
            float min = Half(x + 2);
            byte* scales = x + 4;
            byte* qh = x + 16;
            byte* ql = x + 48;
            int u1 = 1, u2 = 2;
            for (int isc = 0; isc < 8; isc += 2, ql += 32, u1 <<= 2, u2 <<= 2)
            {
                ScaleMinPair(scales, isc, d, min, out float d1, out float m1, out float d2, out float m2);
                for (int l = 0; l < 32; l++)
                {
                    *y++ = (d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0))) - m1;
                }

                for (int l = 0; l < 32; l++)
                {
                    *y++ = (d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0))) - m2;
                }
            }
        }
    }

    private static void Q6_K(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 210)
        {
            byte* ql = x;
            byte* qh = x + 128;
            sbyte* sc = (sbyte*)(x + 192);
            float d = Half(x + 208);
            for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
            {
                for (int l = 0; l < 32; l++)
                {
                    int isc = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * sc[isc] * q1;
                    y[l + 32] = d * sc[isc + 2] * q2;
                    y[l + 64] = d * sc[isc + 4] * q3;
                    y[l + 96] = d * sc[isc + 6] * q4;
                }
            }
        }
    }

    private static void Q8_K(byte* x, float* y, int blocks)
    {
        for (int i = 0; i < blocks; i++, x += 292, y += 256)
        {
            float d = *(float*)x;
            sbyte* qs = (sbyte*)(x + 4);
            for (int j = 0; j < 256; j++)
            {
                y[j] = d * qs[j];
            }
        }
    }
}
