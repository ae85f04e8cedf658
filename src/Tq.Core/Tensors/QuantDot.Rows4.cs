using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        path == SimdPath.Vector512 && type is GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0;

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
                DotRows4F16((ushort*)weights, rowBytes / 2, (float*)activations, count, y, yStride);
                break;
            case GgmlType.BF16:
                DotRows4BF16((ushort*)weights, rowBytes / 2, (float*)activations, count, y, yStride);
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

    private static void DotRows4F16(ushort* w, long stride, float* x, int n, float* y, long yStride)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> rescale = Vector512.Create(BitConverter.UInt32BitsToSingle(0x77800000)); // 2^112
        ushort* w0 = w, w1 = w + stride, w2 = w + (2 * stride), w3 = w + (3 * stride);
        byte* next = (byte*)(w + (4 * stride));
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            PrefetchNextGroup(next + ((long)i * 8), 4);
            Vector512<float> xv = Vector512.Load(x + i) * rescale;
            a0 = Vector512.FusedMultiplyAdd(ScaledHalf512(w0 + i), xv, a0);
            a1 = Vector512.FusedMultiplyAdd(ScaledHalf512(w1 + i), xv, a1);
            a2 = Vector512.FusedMultiplyAdd(ScaledHalf512(w2 + i), xv, a2);
            a3 = Vector512.FusedMultiplyAdd(ScaledHalf512(w3 + i), xv, a3);
            xv = Vector512.Load(x + i + 16) * rescale;
            a0 = Vector512.FusedMultiplyAdd(ScaledHalf512(w0 + i + 16), xv, a0);
            a1 = Vector512.FusedMultiplyAdd(ScaledHalf512(w1 + i + 16), xv, a1);
            a2 = Vector512.FusedMultiplyAdd(ScaledHalf512(w2 + i + 16), xv, a2);
            a3 = Vector512.FusedMultiplyAdd(ScaledHalf512(w3 + i + 16), xv, a3);
        }

        for (; i <= n - 16; i += 16)
        {
            Vector512<float> xv = Vector512.Load(x + i) * rescale;
            a0 = Vector512.FusedMultiplyAdd(ScaledHalf512(w0 + i), xv, a0);
            a1 = Vector512.FusedMultiplyAdd(ScaledHalf512(w1 + i), xv, a1);
            a2 = Vector512.FusedMultiplyAdd(ScaledHalf512(w2 + i), xv, a2);
            a3 = Vector512.FusedMultiplyAdd(ScaledHalf512(w3 + i), xv, a3);
        }

        float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
        for (; i < n; i++)
        {
            float xi = x[i];
            s0 += FloatConversion.HalfToSingle(w0[i]) * xi;
            s1 += FloatConversion.HalfToSingle(w1[i]) * xi;
            s2 += FloatConversion.HalfToSingle(w2[i]) * xi;
            s3 += FloatConversion.HalfToSingle(w3[i]) * xi;
        }

        y[0] = s0;
        y[yStride] = s1;
        y[2 * yStride] = s2;
        y[3 * yStride] = s3;
    }

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

    private static void DotRows4BF16(ushort* w, long stride, float* x, int n, float* y, long yStride)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        ushort* w0 = w, w1 = w + stride, w2 = w + (2 * stride), w3 = w + (3 * stride);
        byte* next = (byte*)(w + (4 * stride));
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            PrefetchNextGroup(next + ((long)i * 8), 2);
            Vector512<float> xv = Vector512.Load(x + i);
            a0 = Vector512.FusedMultiplyAdd(FloatConversion.BFloat16ToSingle512(w0 + i), xv, a0);
            a1 = Vector512.FusedMultiplyAdd(FloatConversion.BFloat16ToSingle512(w1 + i), xv, a1);
            a2 = Vector512.FusedMultiplyAdd(FloatConversion.BFloat16ToSingle512(w2 + i), xv, a2);
            a3 = Vector512.FusedMultiplyAdd(FloatConversion.BFloat16ToSingle512(w3 + i), xv, a3);
        }

        float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
        for (; i < n; i++)
        {
            float xi = x[i];
            s0 += FloatConversion.BFloat16ToSingle(w0[i]) * xi;
            s1 += FloatConversion.BFloat16ToSingle(w1[i]) * xi;
            s2 += FloatConversion.BFloat16ToSingle(w2[i]) * xi;
            s3 += FloatConversion.BFloat16ToSingle(w3[i]) * xi;
        }

        y[0] = s0;
        y[yStride] = s1;
        y[2 * yStride] = s2;
        y[3 * yStride] = s3;
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
}
