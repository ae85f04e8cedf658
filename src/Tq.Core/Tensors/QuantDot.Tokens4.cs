using System.Diagnostics.CodeAnalysis;

namespace Tq.Core.Tensors;

// Decode passes of several sequences (continuous batching): one weight row dotted with up to four activation rows,
// for the K-quants, whose per-token cost in one-row kernels is mostly unpacking (Q4_K_M files are Q4_K and Q6_K).
// Whatever does not depend on the activations (the FP16 scales, the 6-bit scale and min unpacking, the nibble
// unpacking, the scale spreads) is done once for the four; each activation row then costs two multiply-adds per
// 64 quants. Each token's sum is computed with the arithmetic of the one-row kernel, so a sequence gets the same bits
// in a shared pass as alone (checked by Multiply_DecodeRows_EqualTheSingleRowDotExactly).
internal static unsafe partial class QuantDot
{
    /// <summary>Whether <see cref="DotTokens4"/> has a kernel for <paramref name="type"/> on <paramref name="path"/>.</summary>
    public static bool HasTokens4Kernel(GgmlType type, SimdPath path) =>
        path == SimdPath.Vector512 && type is GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>
    /// y[t·<paramref name="yStride"/>] = row · activation row t for t &lt; <paramref name="tokens"/> (1 to 4), the
    /// activation rows <paramref name="aStride"/> bytes apart (only the first <paramref name="tokens"/> are read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotTokens4(GgmlType type, byte* w, byte* a, long aStride, int tokens, int cols, float* y, long yStride)
    {
        byte* a0 = a, a1 = a + aStride, a2 = a + (2 * aStride), a3 = a + (3 * aStride);
        Sums4 sums = type == GgmlType.Q6_K
            ? DotQ6KTokens4(w, a0, a1, a2, a3, tokens, cols / 256)
            : DotQ45KTokens4(w, a0, a1, a2, a3, tokens, cols / 256, type == GgmlType.Q5_K);
        y[0] = sums.X;
        if (tokens > 1)
        {
            y[yStride] = sums.Y;
        }

        if (tokens > 2)
        {
            y[2 * yStride] = sums.Z;
        }

        if (tokens > 3)
        {
            y[3 * yStride] = sums.W;
        }
    }

    private struct Sums4
    {
        public float X, Y, Z, W;
    }

    // DotQ45K512 for four activation rows at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Sums4 DotQ45KTokens4(byte* w, byte* a0, byte* a1, byte* a2, byte* a3, int tokens, int blocks, bool fiveBit)
    {
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector256<float> min0 = default, min1 = default, min2 = default, min3 = default;
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        Vector256<byte> one = Vector256.Create((byte)1);
        Vector512<short> spread0 = Vector512.Create(Vector256.Create((short)0), Vector256.Create((short)1));
        Vector512<short> spread1 = Vector512.Create(Vector256.Create((short)2), Vector256.Create((short)3));
        Vector512<short> spread2 = Vector512.Create(Vector256.Create((short)4), Vector256.Create((short)5));
        Vector512<short> spread3 = Vector512.Create(Vector256.Create((short)6), Vector256.Create((short)7));
        int typeSize = fiveBit ? 176 : 144;
        for (int b = 0; b < blocks; b++, w += typeSize)
        {
            long o = (long)b * ActivationQuantizer.BlockKBytes;
            float dw = Dequantizer.Half(w);
            float dminw = Dequantizer.Half(w + 2);

            Vector128<byte> packed = Q45KScalesAndMins(w);
            Vector128<short> mins = Vector128.WidenUpper(packed).AsInt16();
            Vector256<short> minsPaired = Vector256.Create(Sse2.UnpackLow(mins, mins), Sse2.UnpackHigh(mins, mins));
            Vector512<short> scales512 = Vector128.WidenLower(packed).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
            Vector512<short> sc0 = Avx512BW.PermuteVar32x16(scales512, spread0);
            Vector512<short> sc1 = Avx512BW.PermuteVar32x16(scales512, spread1);
            Vector512<short> sc2 = Avx512BW.PermuteVar32x16(scales512, spread2);
            Vector512<short> sc3 = Avx512BW.PermuteVar32x16(scales512, spread3);

            byte* qs = w + (fiveBit ? 48 : 16);
            Vector256<byte> qh = fiveBit ? Vector256.Load(w + 16) : Vector256<byte>.Zero;
            Vector512<byte> q0 = Q45KQuants(qs, qh, low, one, 0, fiveBit);
            Vector512<byte> q1 = Q45KQuants(qs, qh, low, one, 1, fiveBit);
            Vector512<byte> q2 = Q45KQuants(qs, qh, low, one, 2, fiveBit);
            Vector512<byte> q3 = Q45KQuants(qs, qh, low, one, 3, fiveBit);

            float ad0 = *(float*)(a0 + o);
            min0 = Vector256.FusedMultiplyAdd(TokenMins(a0 + o, minsPaired), Vector256.Create(ad0 * dminw), min0);
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(TokenSum((sbyte*)(a0 + o + 4), q0, q1, q2, q3, sc0, sc1, sc2, sc3)), Vector512.Create(ad0 * dw), acc0);
            if (tokens > 1)
            {
                float ad1 = *(float*)(a1 + o);
                min1 = Vector256.FusedMultiplyAdd(TokenMins(a1 + o, minsPaired), Vector256.Create(ad1 * dminw), min1);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(TokenSum((sbyte*)(a1 + o + 4), q0, q1, q2, q3, sc0, sc1, sc2, sc3)), Vector512.Create(ad1 * dw), acc1);
            }

            if (tokens > 2)
            {
                float ad2 = *(float*)(a2 + o);
                min2 = Vector256.FusedMultiplyAdd(TokenMins(a2 + o, minsPaired), Vector256.Create(ad2 * dminw), min2);
                acc2 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(TokenSum((sbyte*)(a2 + o + 4), q0, q1, q2, q3, sc0, sc1, sc2, sc3)), Vector512.Create(ad2 * dw), acc2);
            }

            if (tokens > 3)
            {
                float ad3 = *(float*)(a3 + o);
                min3 = Vector256.FusedMultiplyAdd(TokenMins(a3 + o, minsPaired), Vector256.Create(ad3 * dminw), min3);
                acc3 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(TokenSum((sbyte*)(a3 + o + 4), q0, q1, q2, q3, sc0, sc1, sc2, sc3)), Vector512.Create(ad3 * dw), acc3);
            }
        }

        return new Sums4
        {
            X = Vector512.Sum(acc0) - Vector256.Sum(min0),
            Y = Vector512.Sum(acc1) - Vector256.Sum(min1),
            Z = Vector512.Sum(acc2) - Vector256.Sum(min2),
            W = Vector512.Sum(acc3) - Vector256.Sum(min3),
        };
    }

    // DotQ6K512 for four activation rows at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Sums4 DotQ6KTokens4(byte* w, byte* a0, byte* a1, byte* a2, byte* a3, int tokens, int blocks)
    {
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector256<float> off0 = default, off1 = default, off2 = default, off3 = default;
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        Vector256<byte> three = Vector256.Create((byte)3);
        Vector512<short> spread0 = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        Vector512<short> four = Vector512.Create((short)4);
        for (int b = 0; b < blocks; b++, w += 210)
        {
            long o = (long)b * ActivationQuantizer.BlockKBytes;
            float dw = Dequantizer.Half(w + 208);
            Vector256<short> scales = Vector256.WidenLower(Vector128.Load((sbyte*)(w + 192)).ToVector256Unsafe());
            Vector512<short> scales512 = scales.ToVector512Unsafe();
            Vector512<short> sc0 = Avx512BW.PermuteVar32x16(scales512, spread0);
            Vector512<short> sc1 = Avx512BW.PermuteVar32x16(scales512, spread0 + four);
            Vector512<short> sc2 = Avx512BW.PermuteVar32x16(scales512, spread0 + four + four);
            Vector512<short> sc3 = Avx512BW.PermuteVar32x16(scales512, spread0 + four + four + four);
            Vector512<byte> q0 = default, q1 = default, q2 = default, q3 = default;
            for (int n = 0; n < 2; n++)
            {
                Vector256<byte> ql0 = Vector256.Load(w + (64 * n));
                Vector256<byte> ql1 = Vector256.Load(w + (64 * n) + 32);
                Vector256<byte> qh = Vector256.Load(w + 128 + (32 * n));
                Vector256<byte> u0 = (ql0 & low) | Vector256.ShiftLeft(qh & three, 4);
                Vector256<byte> u1 = (ql1 & low) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 2) & three, 4);
                Vector256<byte> u2 = (Vector256.ShiftRightLogical(ql0, 4) & low) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 4) & three, 4);
                Vector256<byte> u3 = (Vector256.ShiftRightLogical(ql1, 4) & low) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 6), 4);
                if (n == 0)
                {
                    q0 = Vector512.Create(u0, u1);
                    q1 = Vector512.Create(u2, u3);
                }
                else
                {
                    q2 = Vector512.Create(u0, u1);
                    q3 = Vector512.Create(u2, u3);
                }
            }

            // Per activation row, DotQ6K512's order: d, the +32 offset term, the Σ over chunks, the scale.
            float d0 = *(float*)(a0 + o) * dw;
            off0 = Vector256.FusedMultiplyAdd(Q6KOffset(a0 + o, scales), Vector256.Create(32 * d0), off0);
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(TokenSum((sbyte*)(a0 + o + 4), q0, q1, q2, q3, sc0, sc1, sc2, sc3)), Vector512.Create(d0), acc0);
            if (tokens > 1)
            {
                float d1 = *(float*)(a1 + o) * dw;
                off1 = Vector256.FusedMultiplyAdd(Q6KOffset(a1 + o, scales), Vector256.Create(32 * d1), off1);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(TokenSum((sbyte*)(a1 + o + 4), q0, q1, q2, q3, sc0, sc1, sc2, sc3)), Vector512.Create(d1), acc1);
            }

            if (tokens > 2)
            {
                float d2 = *(float*)(a2 + o) * dw;
                off2 = Vector256.FusedMultiplyAdd(Q6KOffset(a2 + o, scales), Vector256.Create(32 * d2), off2);
                acc2 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(TokenSum((sbyte*)(a2 + o + 4), q0, q1, q2, q3, sc0, sc1, sc2, sc3)), Vector512.Create(d2), acc2);
            }

            if (tokens > 3)
            {
                float d3 = *(float*)(a3 + o) * dw;
                off3 = Vector256.FusedMultiplyAdd(Q6KOffset(a3 + o, scales), Vector256.Create(32 * d3), off3);
                acc3 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(TokenSum((sbyte*)(a3 + o + 4), q0, q1, q2, q3, sc0, sc1, sc2, sc3)), Vector512.Create(d3), acc3);
            }
        }

        return new Sums4
        {
            X = Vector512.Sum(acc0) - Vector256.Sum(off0),
            Y = Vector512.Sum(acc1) - Vector256.Sum(off1),
            Z = Vector512.Sum(acc2) - Vector256.Sum(off2),
            W = Vector512.Sum(acc3) - Vector256.Sum(off3),
        };
    }

    // One activation row's Σ scale·(block sum of q8) of a Q6_K super-block (the +32 offset term before its factor).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q6KOffset(byte* a, Vector256<short> scales) =>
        Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(a + 260)), scales));

    // Chunk c of a Q4_K/Q5_K super-block's quants (sub-blocks 2c and 2c+1: low nibbles, then high nibbles, each with
    // its fifth bit for Q5_K), as the unsigned bytes of one multiply-add with the activations.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<byte> Q45KQuants(byte* qs, Vector256<byte> qh, Vector256<byte> low, Vector256<byte> one, [ConstantExpected(Min = 0, Max = 3)] int c, bool fiveBit)
    {
        Vector256<byte> q = Vector256.Load(qs + (32 * c));
        Vector256<byte> lo = q & low, hi = Vector256.ShiftRightLogical(q, 4) & low;
        if (fiveBit)
        {
            lo |= Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 2 * c) & one, 4);
            hi |= Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, (2 * c) + 1) & one, 4);
        }

        return Vector512.Create(lo, hi);
    }

    // One activation row's Σ_j min_j · bsum_j of a super-block (DotQ45K512's mins term before the scale).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TokenMins(byte* a, Vector256<short> minsPaired) =>
        Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(Vector256.Load((short*)(a + 260)), minsPaired));

    // One activation row's Σ_j scale_j · Σ u·q8 over a super-block, as 16 int32 lanes (exact: the order of the adds is free).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> TokenSum(sbyte* q8, Vector512<byte> q0, Vector512<byte> q1, Vector512<byte> q2, Vector512<byte> q3,
        Vector512<short> sc0, Vector512<short> sc1, Vector512<short> sc2, Vector512<short> sc3) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q0, Vector512.Load(q8)), sc0)
        + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q1, Vector512.Load(q8 + 64)), sc1)
        + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q2, Vector512.Load(q8 + 128)), sc2)
        + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q3, Vector512.Load(q8 + 192)), sc3);
}
