namespace Tq.Core.Tensors;

// AVX-512 decoding of the types the tiled (prefill) path dequantizes most. Same operations in the same order as the
// scalar code (no fused multiply-add), so the results are bit-identical to it and to ggml's formulas.
internal static unsafe partial class Dequantizer
{
    private static void Dequantize512(GgmlType type, byte* x, float* y, int count)
    {
        switch (type)
        {
            case GgmlType.Q8_0:
                for (int b = 0; b < count / 32; b++, x += 34, y += 32)
                {
                    Vector512<float> d = Vector512.Create(Half(x));
                    (Bytes(Vector128.Load((sbyte*)(x + 2))) * d).Store(y);
                    (Bytes(Vector128.Load((sbyte*)(x + 18))) * d).Store(y + 16);
                }

                break;
            case GgmlType.Q4_0:
                {
                    Vector128<byte> mask = Vector128.Create((byte)0x0F);
                    Vector512<float> eight = Vector512.Create(8f);
                    for (int b = 0; b < count / 32; b++, x += 18, y += 32)
                    {
                        Vector512<float> d = Vector512.Create(Half(x));
                        Vector128<byte> q = Vector128.Load(x + 2);
                        ((Bytes(q & mask) - eight) * d).Store(y);
                        ((Bytes(Vector128.ShiftRightLogical(q, 4)) - eight) * d).Store(y + 16);
                    }

                    break;
                }

            case GgmlType.Q4_K:
                {
                    Vector128<byte> mask = Vector128.Create((byte)0x0F);
                    for (int b = 0; b < count / 256; b++, x += 144)
                    {
                        float d = Half(x);
                        float min = Half(x + 2);
                        byte* q = x + 16;
                        for (int isc = 0; isc < 8; isc += 2, q += 32, y += 64)
                        {
                            ScaleMinK4(isc, x + 4, out int sc, out int mn);
                            Vector512<float> d1 = Vector512.Create(d * sc), m1 = Vector512.Create(min * mn);
                            ScaleMinK4(isc + 1, x + 4, out sc, out mn);
                            Vector512<float> d2 = Vector512.Create(d * sc), m2 = Vector512.Create(min * mn);
                            Vector128<byte> q0 = Vector128.Load(q), q1 = Vector128.Load(q + 16);
                            ((d1 * Bytes(q0 & mask)) - m1).Store(y);
                            ((d1 * Bytes(q1 & mask)) - m1).Store(y + 16);
                            ((d2 * Bytes(Vector128.ShiftRightLogical(q0, 4))) - m2).Store(y + 32);
                            ((d2 * Bytes(Vector128.ShiftRightLogical(q1, 4))) - m2).Store(y + 48);
                        }
                    }

                    break;
                }

            default:
                {
                    Vector128<byte> mask = Vector128.Create((byte)0x0F);
                    Vector128<byte> three = Vector128.Create((byte)3);
                    Vector512<float> offset = Vector512.Create(32f);
                    for (int b = 0; b < count / 256; b++, x += 210)
                    {
                        float d = Half(x + 208);
                        sbyte* sc = (sbyte*)(x + 192);
                        for (int n = 0; n < 2; n++, y += 128)
                        {
                            byte* ql = x + (64 * n);
                            byte* qh = x + 128 + (32 * n);
                            for (int half = 0; half < 2; half++)
                            {
                                // Elements l = 16·half .. 16·half+15 of each of the four 32-element groups.
                                int l = 16 * half;
                                Vector128<byte> a = Vector128.Load(ql + l), c = Vector128.Load(ql + l + 32), h = Vector128.Load(qh + l);
                                int s = (8 * n) + half;
                                Store6(y + l, a & mask, h & three, d * sc[s], offset);
                                Store6(y + l + 32, c & mask, Vector128.ShiftRightLogical(h, 2) & three, d * sc[s + 2], offset);
                                Store6(y + l + 64, Vector128.ShiftRightLogical(a, 4), Vector128.ShiftRightLogical(h, 4) & three, d * sc[s + 4], offset);
                                Store6(y + l + 96, Vector128.ShiftRightLogical(c, 4), Vector128.ShiftRightLogical(h, 6), d * sc[s + 6], offset);
                            }
                        }
                    }

                    break;
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store6(float* y, Vector128<byte> low, Vector128<byte> high, float scale, Vector512<float> offset) =>
        (Vector512.Create(scale) * (Bytes(low | Vector128.ShiftLeft(high, 4)) - offset)).Store(y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Bytes(Vector128<byte> v) => Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Bytes(Vector128<sbyte> v) => Vector512.ConvertToSingle(Avx512F.ConvertToVector512Int32(v));
}
