using System.Diagnostics.CodeAnalysis;

namespace Tq.Core.Tensors;

// Decode kernels that dot FOUR consecutive weight rows with one activation row. Decode reads every weight byte once
// per token, so it must run at memory speed: four rows share each activation load (and its widening or rescaling),
// keep four independent accumulator chains in flight, and give the prefetcher four streams. Measured on the 2-core
// AVX-512 machine (docs/kernels.md): the FP16 row-at-a-time kernel converted 9.6 GB/s per core, this one streams
// 17 GB/s per core and saturates the machine's ~28-30 GB/s with two threads.
internal static unsafe partial class QuantDot
{
    /// <summary>Whether <see cref="DotRows4"/> has a dedicated kernel for <paramref name="type"/> on <paramref name="path"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HasRows4Kernel(GgmlType type, SimdPath path) =>
        path == SimdPath.Vector512 && type is GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q5_K;

    /// <summary>
    /// y[i·<paramref name="yStride"/>] = row i · activations for the four rows starting at <paramref name="weights"/>
    /// (<paramref name="rowBytes"/> apart). Only for types where <see cref="HasRows4Kernel"/> is true; no validation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotRows4(GgmlType type, byte* weights, long rowBytes, byte* activations, int count, float* y, long yStride)
    {
        switch (type)
        {
            case GgmlType.F16:
                DotRows4Half<Fp16>((ushort*)weights, rowBytes / 2, (float*)activations, count, y, yStride);
                break;
            case GgmlType.BF16:
                DotRows4Half<Bf16>((ushort*)weights, rowBytes / 2, (float*)activations, count, y, yStride);
                break;
            case GgmlType.Q4_K or GgmlType.Q5_K:
                if (type == GgmlType.Q5_K)
                {
                    DotRows4Q45K<FiveBit>(weights, rowBytes, activations, count / 256, y, yStride);
                }
                else
                {
                    DotRows4Q45K<FourBit>(weights, rowBytes, activations, count / 256, y, yStride);
                }

                break;
            case GgmlType.Q4_0:
                DotRows4Q4_0(weights, weights + rowBytes, weights + (2 * rowBytes), weights + (3 * rowBytes), weights + (4 * rowBytes), activations, count / 32, y, yStride, 4);
                break;
            default:
                DotRows4Q8_0(weights, rowBytes, activations, count / 32, y, yStride);
                break;
        }
    }

    /// <summary>
    /// FP16 weights as (sign-extended bits &lt;&lt; 13) with the three copies of the sign cleared: the float whose value is
    /// the half's value times 2^-112, exact for normals and subnormals (finite weights assumed, as in every GGUF). The
    /// 2^112 goes on the activation instead, which is exact too because activations are FP16-rounded (|x| ≤ 65504), so
    /// every product equals the one of the plain conversion and the sum is the same as <see cref="DotF16"/>'s up to order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ScaledHalf512(ushort* source) =>
        (Avx512F.ConvertToVector512Int32(Vector256.Load((short*)source)) << 13 & Vector512.Create(unchecked((int)0x8FFFFFFF))).AsSingle();

    /// <summary>Format flag of <see cref="DotRows4Half{TFormat}"/>: FP16 weights.</summary>
    private struct Fp16;

    /// <summary>Format flag of <see cref="DotRows4Half{TFormat}"/>: BF16 weights.</summary>
    private struct Bf16;

    // FP16 or BF16 rows (the flag is a type, so each format compiles to its own loop). FP16 converts with the
    // 2^-112 trick of ScaledHalf512 and scales the activations by 2^112; BF16 is a shift. Same arithmetic as
    // DotF16/DotBF16 row by row: one accumulator per row, 16 columns a step, scalar tail.
    private static void DotRows4Half<TFormat>(ushort* w, long stride, float* x, int n, float* y, long yStride)
        where TFormat : struct
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> rescale = Vector512.Create(BitConverter.UInt32BitsToSingle(0x77800000)); // 2^112
        ushort* w0 = w, w1 = w + stride, w2 = w + (2 * stride), w3 = w + (3 * stride);
        byte* next = (byte*)(w + (4 * stride));
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            PrefetchNextGroup(next + ((long)i * 8), 2);
            Vector512<float> xv = typeof(TFormat) == typeof(Fp16) ? Vector512.Load(x + i) * rescale : Vector512.Load(x + i);
            a0 = Vector512.FusedMultiplyAdd(Load16<TFormat>(w0 + i), xv, a0);
            a1 = Vector512.FusedMultiplyAdd(Load16<TFormat>(w1 + i), xv, a1);
            a2 = Vector512.FusedMultiplyAdd(Load16<TFormat>(w2 + i), xv, a2);
            a3 = Vector512.FusedMultiplyAdd(Load16<TFormat>(w3 + i), xv, a3);
        }

        float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
        for (; i < n; i++)
        {
            float xi = x[i];
            s0 += ToSingle<TFormat>(w0[i]) * xi;
            s1 += ToSingle<TFormat>(w1[i]) * xi;
            s2 += ToSingle<TFormat>(w2[i]) * xi;
            s3 += ToSingle<TFormat>(w3[i]) * xi;
        }

        y[0] = s0;
        y[yStride] = s1;
        y[2 * yStride] = s2;
        y[3 * yStride] = s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load16<TFormat>(ushort* source)
        where TFormat : struct =>
        typeof(TFormat) == typeof(Fp16) ? ScaledHalf512(source) : FloatConversion.BFloat16ToSingle512(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ToSingle<TFormat>(ushort bits)
        where TFormat : struct =>
        typeof(TFormat) == typeof(Fp16) ? FloatConversion.HalfToSingle(bits) : FloatConversion.BFloat16ToSingle(bits);

    /// <summary>
    /// Asks for <paramref name="lines"/> cache lines of the next group of rows into L2 while this group is computed.
    /// Rows of 2,048 FP16 values are one 4 KiB page each, and hardware prefetchers stop at page boundaries: without
    /// this, every new group starts with cold misses (measured 27 GB/s vs 35 GB/s with two threads).
    /// Prefetches past the end of the matrix are harmless hints.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchNextGroup(byte* address, int lines)
    {
        for (int l = 0; l < lines; l++)
        {
            Sse.Prefetch1(address + (64 * l));
        }
    }

    // Q8_0, as ggml's AVX2 kernel but over four rows: |w| (unsigned) times x with w's sign (vpsignb) in byte pairs, then
    // pairs of pairs, gives 8 exact int32 partial sums per block; they are scaled as floats by d_w·d_x. The block's
    // activation quants are loaded once for the four rows. (The 512-bit sign-extend-and-vpmaddwd form measured 3x slower.)
    private static void DotRows4Q8_0(byte* w, long rowBytes, byte* a, int blocks, float* y, long yStride)
    {
        const int typeSize = 34;
        const int ab = ActivationQuantizer.Block32Bytes;
        const int aq = ActivationQuantizer.Block32QuantsOffset;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        byte* w0 = w, w1 = w + rowBytes, w2 = w + (2 * rowBytes), w3 = w + (3 * rowBytes);
        byte* next = w + (4 * rowBytes);
        for (int b = 0; b < blocks; b++, a += ab)
        {
            long o = (long)b * typeSize;
            PrefetchNextGroup(next + (4 * o), 2);
            float da = *(float*)a;
            Vector256<sbyte> q = Vector256.Load((sbyte*)(a + aq));
            a0 = Q8Block(w0 + o, q, Dequantizer.Half(w0 + o) * da, a0);
            a1 = Q8Block(w1 + o, q, Dequantizer.Half(w1 + o) * da, a1);
            a2 = Q8Block(w2 + o, q, Dequantizer.Half(w2 + o) * da, a2);
            a3 = Q8Block(w3 + o, q, Dequantizer.Half(w3 + o) * da, a3);
        }

        y[0] = Vector256.Sum(a0);
        y[yStride] = Vector256.Sum(a1);
        y[2 * yStride] = Vector256.Sum(a2);
        y[3 * yStride] = Vector256.Sum(a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q8Block(byte* block, Vector256<sbyte> q, float scale, Vector256<float> acc)
    {
        Vector256<sbyte> qw = Vector256.Load((sbyte*)(block + 2));
        Vector256<int> dot = DotU8S8(Avx2.Abs(qw), Avx2.Sign(q, qw));
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(scale), acc);
    }

    // Q4_0, vectorised across the four rows: one 512-bit register holds the 16 nibble bytes of each row's block (a
    // 128-bit lane per row), so a block of four rows costs one unpack, two byte multiply-adds against the activation
    // quants broadcast to every lane, one pair sum, one conversion and one FMA with the four rows' scales; the offset of
    // 8 is taken off once per block and row through the activation block's Σq. (Row by row, the scalar scale and
    // offset work per 18-byte block held the kernel to ~6 GB/s per core.)
    internal static void DotRows4Q4_0(byte* w0, byte* w1, byte* w2, byte* w3, byte* next, byte* a, int blocks, float* y, long yStride, int store)
    {
        const int typeSize = 18;
        const int ab = ActivationQuantizer.Block32Bytes;
        const int aq = ActivationQuantizer.Block32QuantsOffset;
        Vector512<float> acc = default;
        Vector128<float> offsets = default;
        Vector512<byte> low = Vector512.Create((byte)0x0F);
        Vector512<int> spread = Vector512.Create(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
        Vector128<float> rescale = Vector128.Create(BitConverter.UInt32BitsToSingle(0x77800000)); // 2^112
        for (int b = 0; b < blocks; b++, a += ab)
        {
            long o = (long)b * typeSize;
            PrefetchNextGroup(next + (4 * o), 1);
            Vector512<byte> nibbles = Vector512.Create(
                Vector256.Create(Vector128.Load(w0 + o + 2), Vector128.Load(w1 + o + 2)),
                Vector256.Create(Vector128.Load(w2 + o + 2), Vector128.Load(w3 + o + 2)));
            Vector512<byte> lo = nibbles & low;
            Vector512<byte> hi = Vector512.ShiftRightLogical(nibbles.AsUInt16(), 4).AsByte() & low;
            Vector512<sbyte> qlo = Avx512F.BroadcastVector128ToVector512((int*)(a + aq)).AsSByte();
            Vector512<sbyte> qhi = Avx512F.BroadcastVector128ToVector512((int*)(a + aq + 16)).AsSByte();
            Vector512<short> pairs = Avx512BW.MultiplyAddAdjacent(lo, qlo) + Avx512BW.MultiplyAddAdjacent(hi, qhi);
            Vector512<int> sums = Avx512BW.MultiplyAddAdjacent(pairs, Vector512<short>.One);

            // The four rows' FP16 scales as floats times the activation scale (the 2^-112 conversion, as ScaledHalf512).
            Vector128<int> halves = Vector128.Create(*(short*)(w0 + o), *(short*)(w1 + o), *(short*)(w2 + o), *(short*)(w3 + o));
            Vector128<float> scales = (halves << 13 & Vector128.Create(unchecked((int)0x8FFFFFFF))).AsSingle() * rescale * Vector128.Create(*(float*)a);
            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(sums), Avx512F.PermuteVar16x32(scales.ToVector256Unsafe().ToVector512Unsafe(), spread), acc);
            offsets = Vector128.FusedMultiplyAdd(scales, Vector128.Create(8f * *(int*)(a + 8)), offsets);
        }

        // Lane r of the 128-bit lanes holds row r's four partial sums.
        Vector128<float> r0 = acc.GetLower().GetLower(), r1 = acc.GetLower().GetUpper();
        Vector128<float> r2 = acc.GetUpper().GetLower(), r3 = acc.GetUpper().GetUpper();
        Vector128<float> t0 = Sse.UnpackLow(r0, r1) + Sse.UnpackHigh(r0, r1); // r0a+r0c r1a+r1c r0b+r0d r1b+r1d
        Vector128<float> t1 = Sse.UnpackLow(r2, r3) + Sse.UnpackHigh(r2, r3);
        Vector128<float> rows = Sse.MoveLowToHigh(t0, t1) + Sse.MoveHighToLow(t1, t0) - offsets;
        for (int r = 0; r < store; r++)
        {
            y[r * yStride] = rows.GetElement(r);
        }
    }

    // Q4_K/Q5_K over four rows with the arithmetic of DotQ45K512 row by row (so a row's sum does not depend on its
    // grouping), but the per-super-block scalar work done once for the four rows: the FP16 d/dmin and the 6-bit scale
    // and min unpacking (ggml's utmp shuffle) run on 32-bit lanes, one lane per row. Accumulators stay in locals and
    // the scale-spread indices are hoisted: passed by reference or rebuilt per chunk, the JIT kept them in memory.
    private static void DotRows4Q45K<TBits>(byte* w, long rowBytes, byte* a, int blocks, float* y, long yStride)
        where TBits : struct
    {
        bool fiveBit = typeof(TBits) == typeof(FiveBit);
        int typeSize = fiveBit ? 176 : 144;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector256<float> min0 = default, min1 = default, min2 = default, min3 = default;
        byte* w0 = w, w1 = w + rowBytes, w2 = w + (2 * rowBytes), w3 = w + (3 * rowBytes);
        byte* next = w + (4 * rowBytes);
        Vector128<float> rescale = Vector128.Create(BitConverter.UInt32BitsToSingle(0x77800000)); // 2^112
        Vector128<uint> kmask1 = Vector128.Create(0x3f3f3f3fu), kmask2 = Vector128.Create(0x0f0f0f0fu), kmask3 = Vector128.Create(0x03030303u);
        var spreads = new Q45KSpreads
        {
            S0 = Vector512.Create(Vector256.Create((short)0), Vector256.Create((short)1)),
            S1 = Vector512.Create(Vector256.Create((short)2), Vector256.Create((short)3)),
            S2 = Vector512.Create(Vector256.Create((short)4), Vector256.Create((short)5)),
            S3 = Vector512.Create(Vector256.Create((short)6), Vector256.Create((short)7)),
        };
        for (int b = 0; b < blocks; b++, a += ActivationQuantizer.BlockKBytes)
        {
            long o = (long)b * typeSize;
            PrefetchNextGroup(next + (4 * o), typeSize / 16);

            // Rows' first 16 bytes (d, dmin, 12 scale bytes) transposed to lanes: h = d | dmin << 16, then u0, u1, u2.
            Vector128<uint> r0 = Vector128.Load((uint*)(w0 + o)), r1 = Vector128.Load((uint*)(w1 + o));
            Vector128<uint> r2 = Vector128.Load((uint*)(w2 + o)), r3 = Vector128.Load((uint*)(w3 + o));
            Vector128<uint> t0 = Sse2.UnpackLow(r0, r1), t1 = Sse2.UnpackLow(r2, r3), t2 = Sse2.UnpackHigh(r0, r1), t3 = Sse2.UnpackHigh(r2, r3);
            Vector128<uint> h = Sse2.UnpackLow(t0.AsUInt64(), t1.AsUInt64()).AsUInt32();
            Vector128<uint> u0 = Sse2.UnpackHigh(t0.AsUInt64(), t1.AsUInt64()).AsUInt32();
            Vector128<uint> u1 = Sse2.UnpackLow(t2.AsUInt64(), t3.AsUInt64()).AsUInt32();
            Vector128<uint> u2 = Sse2.UnpackHigh(t2.AsUInt64(), t3.AsUInt64()).AsUInt32();
            Vector128<uint> s0 = u0 & kmask1;
            Vector128<uint> s1 = (u2 & kmask2) | (((u0 >> 6) & kmask3) << 4);
            Vector128<uint> s2 = u1 & kmask1;
            Vector128<uint> s3 = ((u2 >> 4) & kmask2) | (((u1 >> 6) & kmask3) << 4);

            // Back to one 16-byte vector per row: bytes 0..7 the eight scales, 8..15 the eight mins.
            Vector128<uint> v0 = Sse2.UnpackLow(s0, s1), v1 = Sse2.UnpackLow(s2, s3), v2 = Sse2.UnpackHigh(s0, s1), v3 = Sse2.UnpackHigh(s2, s3);
            Vector128<byte> p0 = Sse2.UnpackLow(v0.AsUInt64(), v1.AsUInt64()).AsByte();
            Vector128<byte> p1 = Sse2.UnpackHigh(v0.AsUInt64(), v1.AsUInt64()).AsByte();
            Vector128<byte> p2 = Sse2.UnpackLow(v2.AsUInt64(), v3.AsUInt64()).AsByte();
            Vector128<byte> p3 = Sse2.UnpackHigh(v2.AsUInt64(), v3.AsUInt64()).AsByte();

            Vector128<float> ad = Vector128.Create(*(float*)a);
            Vector128<float> d = ad * ((((h << 16).AsInt32() >> 3).AsUInt32() & Vector128.Create(0x8FFFE000u)).AsSingle() * rescale);
            Vector128<float> dmin = ad * (((h.AsInt32() >> 3).AsUInt32() & Vector128.Create(0x8FFFE000u)).AsSingle() * rescale);
            Vector256<short> bsums = Vector256.Load((short*)(a + 260));
            sbyte* q8 = (sbyte*)(a + 4);
            min0 = Vector256.FusedMultiplyAdd(Q45KMins(p0, bsums), Vector256.Create(dmin.GetElement(0)), min0);
            min1 = Vector256.FusedMultiplyAdd(Q45KMins(p1, bsums), Vector256.Create(dmin.GetElement(1)), min1);
            min2 = Vector256.FusedMultiplyAdd(Q45KMins(p2, bsums), Vector256.Create(dmin.GetElement(2)), min2);
            min3 = Vector256.FusedMultiplyAdd(Q45KMins(p3, bsums), Vector256.Create(dmin.GetElement(3)), min3);
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Q45KRow<TBits>(w0 + o, p0, q8, spreads)), Vector512.Create(d.GetElement(0)), acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Q45KRow<TBits>(w1 + o, p1, q8, spreads)), Vector512.Create(d.GetElement(1)), acc1);
            acc2 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Q45KRow<TBits>(w2 + o, p2, q8, spreads)), Vector512.Create(d.GetElement(2)), acc2);
            acc3 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Q45KRow<TBits>(w3 + o, p3, q8, spreads)), Vector512.Create(d.GetElement(3)), acc3);
        }

        y[0] = Vector512.Sum(acc0) - Vector256.Sum(min0);
        y[yStride] = Vector512.Sum(acc1) - Vector256.Sum(min1);
        y[2 * yStride] = Vector512.Sum(acc2) - Vector256.Sum(min2);
        y[3 * yStride] = Vector512.Sum(acc3) - Vector256.Sum(min3);
    }

    /// <summary>Type flag of <see cref="DotRows4Q45K{TBits}"/>: Q5_K (a fifth bit per quant).</summary>
    private struct FiveBit;

    /// <summary>Type flag of <see cref="DotRows4Q45K{TBits}"/>: Q4_K.</summary>
    private struct FourBit;

    /// <summary>The vpermw indices that spread scales 2c and 2c+1 over the two halves of chunk c.</summary>
    private struct Q45KSpreads
    {
        public Vector512<short> S0, S1, S2, S3;
    }

    // Σ_j min_j · (block sum of q8 over sub-block j), as eight pairs (the two 16-element halves of each sub-block).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Q45KMins(Vector128<byte> packed, Vector256<short> bsums)
    {
        Vector128<short> mins = Vector128.WidenUpper(packed).AsInt16();
        Vector256<short> minsPaired = Vector256.Create(Sse2.UnpackLow(mins, mins), Sse2.UnpackHigh(mins, mins));
        return Vector256.ConvertToSingle(Avx2.MultiplyAddAdjacent(bsums, minsPaired));
    }

    // Σ_j scale_j · Σ u·q8 over a super-block of one row, as 16 int32 lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Q45KRow<TBits>(byte* w, Vector128<byte> packed, sbyte* q8, in Q45KSpreads spreads)
        where TBits : struct
    {
        Vector512<short> scales512 = Vector128.WidenLower(packed).AsInt16().ToVector256Unsafe().ToVector512Unsafe();
        byte* qs = w + (typeof(TBits) == typeof(FiveBit) ? 48 : 16);
        Vector256<byte> qh = typeof(TBits) == typeof(FiveBit) ? Vector256.Load(w + 16) : Vector256<byte>.Zero;
        return Q45KChunk<TBits>(qs, qh, q8, Avx512BW.PermuteVar32x16(scales512, spreads.S0), 0)
            + Q45KChunk<TBits>(qs, qh, q8, Avx512BW.PermuteVar32x16(scales512, spreads.S1), 1)
            + Q45KChunk<TBits>(qs, qh, q8, Avx512BW.PermuteVar32x16(scales512, spreads.S2), 2)
            + Q45KChunk<TBits>(qs, qh, q8, Avx512BW.PermuteVar32x16(scales512, spreads.S3), 3);
    }

    // Chunk c (64 quants: sub-blocks 2c and 2c+1) of a Q4_K/Q5_K super-block, times its spread scales.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Q45KChunk<TBits>(byte* qs, Vector256<byte> qh, sbyte* q8, Vector512<short> scales, [ConstantExpected(Min = 0, Max = 3)] int c)
        where TBits : struct
    {
        Vector512<byte> u = Q45KQuants(qs, qh, Vector256.Create((byte)0x0F), Vector256.Create((byte)1), c, typeof(TBits) == typeof(FiveBit));
        Vector512<short> products = Avx512BW.MultiplyAddAdjacent(u, Vector512.Load(q8 + (64 * c)));
        return Avx512BW.MultiplyAddAdjacent(products, scales);
    }
}
