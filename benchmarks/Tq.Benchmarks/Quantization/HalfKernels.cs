using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tq.Benchmarks.Quantization;

/// <summary>
/// FP16 baselines: what an FP16 KV cache would run per key. .NET exposes no F16C conversion intrinsic, so the fused
/// kernel converts with integer ops (exact for finite values, normals and subnormals: bits shifted into place, then
/// scaled by 2^112) and multiplies in the same pass.
/// </summary>
internal static class HalfKernels
{
    public static float Dot(ReadOnlySpan<Half> key, ReadOnlySpan<float> query)
    {
        int n = key.Length;
        ref ushort k = ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(key));
        ref float q = ref MemoryMarshal.GetReference(query);
        int i = 0;
        float sum = 0;
        if (Avx512F.IsSupported)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                acc0 = Avx512F.FusedMultiplyAdd(Convert(Vector256.LoadUnsafe(ref k, (nuint)i)), Vector512.LoadUnsafe(ref q, (nuint)i), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(Convert(Vector256.LoadUnsafe(ref k, (nuint)(i + 16))), Vector512.LoadUnsafe(ref q, (nuint)(i + 16)), acc1);
            }

            for (; i + 16 <= n; i += 16)
            {
                acc0 = Avx512F.FusedMultiplyAdd(Convert(Vector256.LoadUnsafe(ref k, (nuint)i)), Vector512.LoadUnsafe(ref q, (nuint)i), acc0);
            }

            sum = Vector512.Sum(acc0 + acc1);
        }

        for (; i < n; i++)
        {
            sum += (float)key[i] * query[i];
        }

        return sum;
    }

    /// <summary>
    /// Scores of one FP16 row of 128 values against a group of queries (GQA): the row is converted once into registers,
    /// then dotted with every query.
    /// </summary>
    public static void DotGroup128(ReadOnlySpan<Half> key, ReadOnlySpan<float> queries, int count, Span<float> scores, int scoreStride, int row)
    {
        ref ushort k = ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(key));
        var k0 = Convert(Vector256.LoadUnsafe(ref k, 0));
        var k1 = Convert(Vector256.LoadUnsafe(ref k, 16));
        var k2 = Convert(Vector256.LoadUnsafe(ref k, 32));
        var k3 = Convert(Vector256.LoadUnsafe(ref k, 48));
        var k4 = Convert(Vector256.LoadUnsafe(ref k, 64));
        var k5 = Convert(Vector256.LoadUnsafe(ref k, 80));
        var k6 = Convert(Vector256.LoadUnsafe(ref k, 96));
        var k7 = Convert(Vector256.LoadUnsafe(ref k, 112));
        ref float q = ref MemoryMarshal.GetReference(queries);
        for (int g = 0; g < count; g++)
        {
            ref float qg = ref Unsafe.Add(ref q, g * 128);
            var a = k0 * Vector512.LoadUnsafe(ref qg, 0);
            var b = k1 * Vector512.LoadUnsafe(ref qg, 16);
            a = Avx512F.FusedMultiplyAdd(k2, Vector512.LoadUnsafe(ref qg, 32), a);
            b = Avx512F.FusedMultiplyAdd(k3, Vector512.LoadUnsafe(ref qg, 48), b);
            a = Avx512F.FusedMultiplyAdd(k4, Vector512.LoadUnsafe(ref qg, 64), a);
            b = Avx512F.FusedMultiplyAdd(k5, Vector512.LoadUnsafe(ref qg, 80), b);
            a = Avx512F.FusedMultiplyAdd(k6, Vector512.LoadUnsafe(ref qg, 96), a);
            b = Avx512F.FusedMultiplyAdd(k7, Vector512.LoadUnsafe(ref qg, 112), b);
            scores[(g * scoreStride) + row] = Vector512.Sum(a + b);
        }
    }

    /// <summary>acc += w·row over FP16 rows (the FP16 cache's value accumulation).</summary>
    public static void Axpy(float w, ReadOnlySpan<Half> row, Span<float> acc)
    {
        int n = row.Length;
        ref ushort k = ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(row));
        ref float a = ref MemoryMarshal.GetReference(acc);
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var wv = Vector512.Create(w);
            for (; i + 16 <= n; i += 16)
            {
                Avx512F.FusedMultiplyAdd(Convert(Vector256.LoadUnsafe(ref k, (nuint)i)), wv, Vector512.LoadUnsafe(ref a, (nuint)i)).StoreUnsafe(ref a, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            acc[i] += w * (float)row[i];
        }
    }

    /// <summary>The library route: TensorPrimitives' vectorized FP16 → FP32 conversion into a buffer, then a float dot.</summary>
    public static float ConvertThenDot(ReadOnlySpan<Half> key, ReadOnlySpan<float> query, Span<float> buffer)
    {
        TensorPrimitives.ConvertToSingle(key, buffer);
        return TensorPrimitives.Dot(buffer, query);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Convert(Vector256<ushort> h)
    {
        var x = Avx512F.ConvertToVector512Int32(h);
        var sign = (x & Vector512.Create(0x8000)) << 16;
        var magnitude = (x & Vector512.Create(0x7FFF)) << 13;
        var value = magnitude.AsSingle() * Vector512.Create(BitConverter.Int32BitsToSingle(0x77800000)); // × 2^112
        return (value.AsInt32() | sign).AsSingle();
    }
}
