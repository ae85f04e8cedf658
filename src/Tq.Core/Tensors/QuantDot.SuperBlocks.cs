namespace Tq.Core.Tensors;

// K-quants against Q8_K activations. Each super-block is unpacked to 256 unsigned quants, sixteen signed scales (one
// per 16 elements) and an offset, then one integer core sums Σ_j scale_j·Σ u·q8; offsets and mins come from the Q8_K
// block sums. This is ggml's arithmetic reorganised so that one vector core serves all five types.
internal static unsafe partial class QuantDot
{
    [SkipLocalsInit] // the unpack buffers are fully written before they are read
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotSuperBlocks(GgmlType type, byte* w, byte* a, int blocks, SimdPath path)
    {
        if (path == SimdPath.Vector512 && type is GgmlType.Q4_K or GgmlType.Q5_K)
        {
            return DotQ45K512(w, a, blocks, fiveBit: type == GgmlType.Q5_K);
        }

        if (path == SimdPath.Vector512 && type == GgmlType.Q6_K)
        {
            return DotQ6K512(w, a, blocks);
        }

        int typeSize = type switch
        {
            GgmlType.Q2_K => 84,
            GgmlType.Q3_K => 110,
            GgmlType.Q4_K => 144,
            GgmlType.Q5_K => 176,
            GgmlType.Q6_K => 210,
            _ => 292,
        };
        byte* u = stackalloc byte[256];
        short* scales = stackalloc short[16];
        sbyte* q3Scales = stackalloc sbyte[16];
        bool vector = path != SimdPath.Scalar;
        float sum = 0;
        for (int b = 0; b < blocks; b++, w += typeSize, a += ActivationQuantizer.BlockKBytes)
        {
            float ad = *(float*)a;
            sbyte* q = (sbyte*)(a + 4);
            short* bsums = (short*)(a + 260);
            if (type == GgmlType.Q8_K)
            {
                int s8 = 0;
                sbyte* qw = (sbyte*)(w + 4);
                for (int j = 0; j < 256; j++)
                {
                    s8 += qw[j] * q[j];
                }

                sum += *(float*)w * ad * s8;
                continue;
            }

            int offset;
            float d, dmin = 0;
            int mins = 0;
            switch (type)
            {
                case GgmlType.Q2_K:
                    {
                        if (vector) { UnpackQ2KVector(w + 16, u); } else { UnpackQ2KScalar(w + 16, u); }

                        for (int j = 0; j < 16; j++)
                        {
                            scales[j] = (short)(w[j] & 0xF);
                            mins += (w[j] >> 4) * bsums[j];
                        }

                        d = Dequantizer.Half(w + 80);
                        dmin = Dequantizer.Half(w + 82);
                        offset = 0;
                        break;
                    }

                case GgmlType.Q3_K:
                    {
                        if (vector) { UnpackQ3KVector(w, u); } else { UnpackQ3KScalar(w, u); }

                        Dequantizer.UnpackQ3KScales(w + 96, q3Scales);
                        for (int j = 0; j < 16; j++)
                        {
                            scales[j] = (short)(q3Scales[j] - 32);
                        }

                        d = Dequantizer.Half(w + 108);
                        offset = 4;
                        break;
                    }

                case GgmlType.Q4_K:
                case GgmlType.Q5_K:
                    {
                        if (type == GgmlType.Q4_K)
                        {
                            if (vector) { UnpackQ4KVector(w + 16, u); } else { UnpackQ4KScalar(w + 16, u); }
                        }
                        else
                        {
                            if (vector) { UnpackQ5KVector(w + 48, w + 16, u); } else { UnpackQ5KScalar(w + 48, w + 16, u); }
                        }

                        for (int j = 0; j < 8; j++)
                        {
                            Dequantizer.ScaleMinK4(j, w + 4, out int sc, out int mn);
                            scales[2 * j] = scales[(2 * j) + 1] = (short)sc;
                            mins += mn * (bsums[2 * j] + bsums[(2 * j) + 1]);
                        }

                        d = Dequantizer.Half(w);
                        dmin = Dequantizer.Half(w + 2);
                        offset = 0;
                        break;
                    }

                default:
                    {
                        if (vector) { UnpackQ6KVector(w, u); } else { UnpackQ6KScalar(w, u); }

                        sbyte* s = (sbyte*)(w + 192);
                        for (int j = 0; j < 16; j++)
                        {
                            scales[j] = s[j];
                        }

                        d = Dequantizer.Half(w + 208);
                        offset = 32;
                        break;
                    }
            }

            int isum = path switch
            {
                SimdPath.Vector512 => Core512(u, q, scales),
                SimdPath.Vector256 => Core256(u, q, scales),
                _ => CoreScalar(u, q, scales),
            };

            if (offset != 0)
            {
                int corr = 0;
                for (int j = 0; j < 16; j++)
                {
                    corr += scales[j] * bsums[j];
                }

                isum -= offset * corr;
            }

            sum += (d * ad * isum) - (dmin * ad * mins);
        }

        return sum;
    }

    private static int CoreScalar(byte* u, sbyte* q, short* scales)
    {
        int total = 0;
        for (int j = 0; j < 16; j++)
        {
            int s = 0;
            for (int l = 0; l < 16; l++)
            {
                s += u[(j * 16) + l] * q[(j * 16) + l];
            }

            total += scales[j] * s;
        }

        return total;
    }

    private static int Core256(byte* u, sbyte* q, short* scales)
    {
        Vector256<int> acc = Vector256<int>.Zero;
        for (int c = 0; c < 8; c++)
        {
            Vector256<short> products = Avx2.MultiplyAddAdjacent(Vector256.Load(u + (c * 32)), Vector256.Load(q + (c * 32)));
            Vector256<short> s = Vector256.Create(Vector128.Create(scales[2 * c]), Vector128.Create(scales[(2 * c) + 1]));
            acc += Avx2.MultiplyAddAdjacent(products, s);
        }

        return Vector256.Sum(acc);
    }

    private static int Core512(byte* u, sbyte* q, short* scales)
    {
        Vector512<int> acc = Vector512<int>.Zero;
        Vector512<short> spread = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        for (int c = 0; c < 4; c++)
        {
            Vector512<short> products = Avx512BW.MultiplyAddAdjacent(Vector512.Load(u + (c * 64)), Vector512.Load(q + (c * 64)));
            Vector512<short> s = Avx512BW.PermuteVar32x16(Vector128.LoadUnsafe(ref *(scales + (4 * c))).ToVector256Unsafe().ToVector512Unsafe(), spread);
            acc += Avx512BW.MultiplyAddAdjacent(products, s);
        }

        return Vector512.Sum(acc);
    }

    // ---- unpacking: element order exactly as ggml's dequantize_row_* ----

    private static void UnpackQ2KScalar(byte* qs, byte* u)
    {
        for (int n = 0; n < 2; n++)
        {
            for (int j = 0; j < 4; j++)
            {
                for (int l = 0; l < 32; l++)
                {
                    u[(n * 128) + (j * 32) + l] = (byte)((qs[(n * 32) + l] >> (2 * j)) & 3);
                }
            }
        }
    }

    private static void UnpackQ2KVector(byte* qs, byte* u)
    {
        Vector256<byte> three = Vector256.Create((byte)3);
        for (int n = 0; n < 2; n++)
        {
            Vector256<byte> q = Vector256.Load(qs + (n * 32));
            (q & three).Store(u + (n * 128));
            (Vector256.ShiftRightLogical(q, 2) & three).Store(u + (n * 128) + 32);
            (Vector256.ShiftRightLogical(q, 4) & three).Store(u + (n * 128) + 64);
            Vector256.ShiftRightLogical(q, 6).Store(u + (n * 128) + 96);
        }
    }

    private static void UnpackQ3KScalar(byte* x, byte* u)
    {
        byte* hm = x;
        byte* qs = x + 32;
        for (int n = 0; n < 2; n++)
        {
            for (int j = 0; j < 4; j++)
            {
                for (int l = 0; l < 32; l++)
                {
                    int low = (qs[(n * 32) + l] >> (2 * j)) & 3;
                    int high = (hm[l] >> ((n * 4) + j)) & 1;
                    u[(n * 128) + (j * 32) + l] = (byte)(low | (high << 2));
                }
            }
        }
    }

    private static void UnpackQ3KVector(byte* x, byte* u)
    {
        Vector256<byte> three = Vector256.Create((byte)3);
        Vector256<byte> one = Vector256.Create((byte)1);
        Vector256<byte> hm = Vector256.Load(x);
        for (int n = 0; n < 2; n++)
        {
            Vector256<byte> q = Vector256.Load(x + 32 + (n * 32));
            for (int j = 0; j < 4; j++)
            {
                Vector256<byte> low = Vector256.ShiftRightLogical(q, 2 * j) & three;
                Vector256<byte> high = Vector256.ShiftRightLogical(hm, (n * 4) + j) & one;
                (low | Vector256.ShiftLeft(high, 2)).Store(u + (n * 128) + (j * 32));
            }
        }
    }

    private static void UnpackQ4KScalar(byte* qs, byte* u)
    {
        for (int c = 0; c < 4; c++)
        {
            for (int l = 0; l < 32; l++)
            {
                u[(c * 64) + l] = (byte)(qs[(c * 32) + l] & 0xF);
                u[(c * 64) + 32 + l] = (byte)(qs[(c * 32) + l] >> 4);
            }
        }
    }

    private static void UnpackQ4KVector(byte* qs, byte* u)
    {
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        for (int c = 0; c < 4; c++)
        {
            Vector256<byte> q = Vector256.Load(qs + (c * 32));
            (q & mask).Store(u + (c * 64));
            Vector256.ShiftRightLogical(q, 4).Store(u + (c * 64) + 32);
        }
    }

    private static void UnpackQ5KScalar(byte* ql, byte* qh, byte* u)
    {
        for (int c = 0; c < 4; c++)
        {
            for (int l = 0; l < 32; l++)
            {
                u[(c * 64) + l] = (byte)((ql[(c * 32) + l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4));
                u[(c * 64) + 32 + l] = (byte)((ql[(c * 32) + l] >> 4) | (((qh[l] >> ((2 * c) + 1)) & 1) << 4));
            }
        }
    }

    private static void UnpackQ5KVector(byte* ql, byte* qh, byte* u)
    {
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        Vector256<byte> one = Vector256.Create((byte)1);
        Vector256<byte> h = Vector256.Load(qh);
        for (int c = 0; c < 4; c++)
        {
            Vector256<byte> q = Vector256.Load(ql + (c * 32));
            Vector256<byte> h0 = Vector256.ShiftLeft(Vector256.ShiftRightLogical(h, 2 * c) & one, 4);
            Vector256<byte> h1 = Vector256.ShiftLeft(Vector256.ShiftRightLogical(h, (2 * c) + 1) & one, 4);
            ((q & mask) | h0).Store(u + (c * 64));
            (Vector256.ShiftRightLogical(q, 4) | h1).Store(u + (c * 64) + 32);
        }
    }

    private static void UnpackQ6KScalar(byte* x, byte* u)
    {
        for (int n = 0; n < 2; n++)
        {
            byte* ql = x + (n * 64);
            byte* qh = x + 128 + (n * 32);
            byte* o = u + (n * 128);
            for (int l = 0; l < 32; l++)
            {
                o[l] = (byte)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
                o[l + 32] = (byte)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                o[l + 64] = (byte)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                o[l + 96] = (byte)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
        }
    }

    private static void UnpackQ6KVector(byte* x, byte* u)
    {
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        Vector256<byte> three = Vector256.Create((byte)3);
        for (int n = 0; n < 2; n++)
        {
            Vector256<byte> ql0 = Vector256.Load(x + (n * 64));
            Vector256<byte> ql1 = Vector256.Load(x + (n * 64) + 32);
            Vector256<byte> qh = Vector256.Load(x + 128 + (n * 32));
            byte* o = u + (n * 128);
            ((ql0 & mask) | Vector256.ShiftLeft(qh & three, 4)).Store(o);
            ((ql1 & mask) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 2) & three, 4)).Store(o + 32);
            (Vector256.ShiftRightLogical(ql0, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 4) & three, 4)).Store(o + 64);
            (Vector256.ShiftRightLogical(ql1, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 6), 4)).Store(o + 96);
        }
    }
}
