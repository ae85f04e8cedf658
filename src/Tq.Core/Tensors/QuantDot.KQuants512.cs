namespace Tq.Core.Tensors;

// Register-only AVX-512 kernels for Q4_K, Q5_K and Q6_K (the bulk of Q4_K_M / Q5_K_M files): the quants
// never touch memory, scales are spread with one vpermw, and float partial sums stay in vectors across super-blocks.
internal static unsafe partial class QuantDot
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ45K512(byte* w, byte* a, int blocks, bool fiveBit)
    {
        Vector512<float> acc = Vector512<float>.Zero;
        Vector256<float> accMin = Vector256<float>.Zero;
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        int typeSize = fiveBit ? 176 : 144;
        Vector256<byte> one = Vector256.Create((byte)1);
        for (int b = 0; b < blocks; b++, w += typeSize, a += ActivationQuantizer.BlockKBytes)
        {
            float ad = *(float*)a;
            sbyte* q8 = (sbyte*)(a + 4);
            float d = ad * Dequantizer.Half(w);
            float dmin = ad * Dequantizer.Half(w + 2);

            Vector128<byte> packed = Q45KScalesAndMins(w);
            Vector128<short> scales = Vector128.WidenLower(packed).AsInt16();
            Vector128<short> mins = Vector128.WidenUpper(packed).AsInt16();

            Vector256<short> bsums = Vector256.Load((short*)(a + 260));
            Vector256<short> minsPaired = Vector256.Create(Sse2.UnpackLow(mins, mins), Sse2.UnpackHigh(mins, mins));
            accMin = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(bsums, minsPaired)), Vector256.Create(dmin), accMin);

            Vector512<short> scales512 = scales.ToVector256Unsafe().ToVector512Unsafe();
            Vector512<int> sum = Vector512<int>.Zero;
            byte* qs = w + (fiveBit ? 48 : 16);
            Vector256<byte> qh = fiveBit ? Vector256.Load(w + 16) : Vector256<byte>.Zero;
            for (int c = 0; c < 4; c++)
            {
                Vector256<byte> q = Vector256.Load(qs + (32 * c));
                Vector256<byte> lo = q & low, hi = Vector256.ShiftRightLogical(q, 4) & low;
                if (fiveBit)
                {
                    // Bit 2c of qh is the fifth bit of the low nibbles of chunk c, bit 2c+1 of the high nibbles.
                    lo |= Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 2 * c) & one, 4);
                    hi |= Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, (2 * c) + 1) & one, 4);
                }

                Vector512<byte> u = Vector512.Create(lo, hi);
                Vector512<short> products = Avx512BW.MultiplyAddAdjacent(u, Vector512.Load(q8 + (64 * c)));
                Vector512<short> spread = Vector512.Create(Vector256.Create((short)(2 * c)), Vector256.Create((short)((2 * c) + 1)));
                sum += Avx512BW.MultiplyAddAdjacent(products, Avx512BW.PermuteVar32x16(scales512, spread));
            }

            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(sum), Vector512.Create(d), acc);
        }

        return Vector512.Sum(acc) - Vector256.Sum(accMin);
    }

    // ggml's utmp shuffle of a Q4_K/Q5_K super-block's 12 scale bytes: bytes 0..7 become the eight 6-bit scales,
    // bytes 8..15 the eight mins.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Q45KScalesAndMins(byte* w)
    {
        const uint kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
        uint u0 = Unsafe.ReadUnaligned<uint>(w + 4);
        uint u1 = Unsafe.ReadUnaligned<uint>(w + 8);
        uint u2 = Unsafe.ReadUnaligned<uint>(w + 12);
        uint s3 = ((u2 >> 4) & kmask2) | (((u1 >> 6) & kmask3) << 4);
        uint s2 = u1 & kmask1;
        uint s1 = (u2 & kmask2) | (((u0 >> 6) & kmask3) << 4);
        uint s0 = u0 & kmask1;
        return Vector128.Create(s0, s1, s2, s3).AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotQ6K512(byte* w, byte* a, int blocks)
    {
        Vector512<float> acc = Vector512<float>.Zero;
        Vector256<float> accOffset = Vector256<float>.Zero;
        Vector256<byte> low = Vector256.Create((byte)0x0F);
        Vector256<byte> three = Vector256.Create((byte)3);
        Vector512<short> spread0 = Vector512.Create(
            (short)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        Vector512<short> four = Vector512.Create((short)4);
        for (int b = 0; b < blocks; b++, w += 210, a += ActivationQuantizer.BlockKBytes)
        {
            float d = *(float*)a * Dequantizer.Half(w + 208);
            sbyte* q8 = (sbyte*)(a + 4);
            Vector256<short> scales = Vector256.WidenLower(Vector128.Load((sbyte*)(w + 192)).ToVector256Unsafe());
            Vector256<short> bsums = Vector256.Load((short*)(a + 260));

            // Quants are stored +32: subtract 32·Σ scale·(block sum of q8) once per super-block.
            accOffset = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(bsums, scales)), Vector256.Create(32 * d), accOffset);

            Vector512<short> scales512 = scales.ToVector512Unsafe();
            Vector512<short> spread = spread0;
            Vector512<int> sum = Vector512<int>.Zero;
            for (int n = 0; n < 2; n++)
            {
                Vector256<byte> ql0 = Vector256.Load(w + (64 * n));
                Vector256<byte> ql1 = Vector256.Load(w + (64 * n) + 32);
                Vector256<byte> qh = Vector256.Load(w + 128 + (32 * n));
                Vector256<byte> u0 = (ql0 & low) | Vector256.ShiftLeft(qh & three, 4);
                Vector256<byte> u1 = (ql1 & low) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 2) & three, 4);
                Vector256<byte> u2 = (Vector256.ShiftRightLogical(ql0, 4) & low) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 4) & three, 4);
                Vector256<byte> u3 = (Vector256.ShiftRightLogical(ql1, 4) & low) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(qh, 6), 4);

                Vector512<short> p01 = Avx512BW.MultiplyAddAdjacent(Vector512.Create(u0, u1), Vector512.Load(q8 + (128 * n)));
                sum += Avx512BW.MultiplyAddAdjacent(p01, Avx512BW.PermuteVar32x16(scales512, spread));
                spread += four;
                Vector512<short> p23 = Avx512BW.MultiplyAddAdjacent(Vector512.Create(u2, u3), Vector512.Load(q8 + (128 * n) + 64));
                sum += Avx512BW.MultiplyAddAdjacent(p23, Avx512BW.PermuteVar32x16(scales512, spread));
                spread += four;
            }

            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(sum), Vector512.Create(d), acc);
        }

        return Vector512.Sum(acc) - Vector256.Sum(accOffset);
    }
}
