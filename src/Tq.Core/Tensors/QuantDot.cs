namespace Tq.Core.Tensors;

/// <summary>
/// Dot products of one weight row with one activation row prepared by <see cref="ActivationQuantizer"/>, block by block
/// with integer arithmetic as ggml's <c>ggml_vec_dot_*</c>: the integer sums are exact, so the paths differ from each
/// other and from llama.cpp only in the order float partial sums are added.
/// </summary>
internal static unsafe partial class QuantDot
{
    /// <summary>
    /// Σ w[i]·a[i] over <paramref name="count"/> elements of weight row <paramref name="weights"/> (ggml layout of
    /// <paramref name="type"/>) and activations <paramref name="activations"/> in the form
    /// <see cref="ActivationQuantizer.KindFor"/> gives. No validation: callers validated once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(GgmlType type, byte* weights, byte* activations, int count, SimdPath path)
    {
        path = SimdPaths.Resolve(path);
        return type switch
        {
            GgmlType.F32 => DotF32((float*)weights, (float*)activations, count, path),
            GgmlType.F16 => DotF16((ushort*)weights, (float*)activations, count, path),
            GgmlType.BF16 => DotBF16((ushort*)weights, (float*)activations, count, path),
            GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 =>
                DotBlocks32(type, weights, activations, count / 32, path),
            GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K =>
                DotSuperBlocks(type, weights, activations, count / 256, path),
            _ => throw QuantizationThrow.Unsupported(type),
        };
    }

    /// <summary>Float dot product (also the kernel of the F32/F16/BF16 paths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotF32(float* w, float* x, int n, SimdPath path)
    {
        int i = 0;
        float sum = 0;
        if (path == SimdPath.Vector512)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(w + i), Vector512.Load(x + i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(w + i + 16), Vector512.Load(x + i + 16), acc1);
            }

            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(w + i), Vector512.Load(x + i), acc0);
            }

            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (path == SimdPath.Vector256)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(w + i), Vector256.Load(x + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + i + 8), Vector256.Load(x + i + 8), acc1);
            }

            for (; i <= n - 8; i += 8)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(w + i), Vector256.Load(x + i), acc0);
            }

            sum = Vector256.Sum(acc0 + acc1);
        }

        for (; i < n; i++)
        {
            sum += w[i] * x[i];
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotF16(ushort* w, float* x, int n, SimdPath path)
    {
        int i = 0;
        float sum = 0;
        if (path == SimdPath.Vector512)
        {
            // The arithmetic of DotRows4Half<Fp16> row by row, so a row gives the same sum alone or in a group of four.
            Vector512<float> acc = Vector512<float>.Zero;
            Vector512<float> rescale = Vector512.Create(BitConverter.UInt32BitsToSingle(0x77800000)); // 2^112
            for (; i <= n - 16; i += 16)
            {
                acc = Vector512.FusedMultiplyAdd(ScaledHalf512(w + i), Vector512.Load(x + i) * rescale, acc);
            }

            sum = Vector512.Sum(acc);
        }
        else if (path == SimdPath.Vector256)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(FloatConversion.HalfToSingle256(w + i), Vector256.Load(x + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(FloatConversion.HalfToSingle256(w + i + 8), Vector256.Load(x + i + 8), acc1);
            }

            for (; i <= n - 8; i += 8)
            {
                acc0 = Vector256.FusedMultiplyAdd(FloatConversion.HalfToSingle256(w + i), Vector256.Load(x + i), acc0);
            }

            sum = Vector256.Sum(acc0 + acc1);
        }

        for (; i < n; i++)
        {
            sum += FloatConversion.HalfToSingle(w[i]) * x[i];
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotBF16(ushort* w, float* x, int n, SimdPath path)
    {
        int i = 0;
        float sum = 0;
        if (path == SimdPath.Vector512)
        {
            Vector512<float> acc0 = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector512.FusedMultiplyAdd(FloatConversion.BFloat16ToSingle512(w + i), Vector512.Load(x + i), acc0);
            }

            sum = Vector512.Sum(acc0);
        }
        else if (path == SimdPath.Vector256)
        {
            Vector256<float> acc0 = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                acc0 = Vector256.FusedMultiplyAdd(FloatConversion.BFloat16ToSingle256(w + i), Vector256.Load(x + i), acc0);
            }

            sum = Vector256.Sum(acc0);
        }

        for (; i < n; i++)
        {
            sum += FloatConversion.BFloat16ToSingle(w[i]) * x[i];
        }

        return sum;
    }

    // ---- 32-element blocks: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 against 8-bit activation blocks ----

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotBlocks32(GgmlType type, byte* w, byte* a, int blocks, SimdPath path)
    {
        if (path == SimdPath.Scalar)
        {
            return DotBlocks32Scalar(type, w, a, blocks);
        }

        // Measured on Zen (AVX-512 + AVX-VNNI): the 256-bit VNNI kernel is faster for short rows (256 columns: 6.2 vs
        // 10.5 µs per 256×256 product), the 512-bit kernel for long ones (4096 columns: 1.51 vs 1.86 ms per 4096²).
        // Q8_0 always takes the 256-bit kernel and Q4_0 the four-row one: the arithmetic of the fast decode kernels
        // (QuantDot.Rows4.cs), so a row gives the same sum alone or in a group of four.
        if (path == SimdPath.Vector512 && type == GgmlType.Q4_0)
        {
            float result;
            DotRows4Q4_0(w, w, w, w, w, a, blocks, &result, 0, 1);
            return result;
        }

        if (path == SimdPath.Vector512 && blocks >= Blocks32Vector512MinBlocks && type != GgmlType.Q8_0)
        {
            return DotBlocks32V512(type, w, a, blocks);
        }

        return DotBlocks32V256(type, w, a, blocks);
    }

    private static float DotBlocks32Scalar(GgmlType type, byte* w, byte* a, int blocks)
    {
        int typeSize = Block32Size(type);
        byte* u = stackalloc byte[32];
        float sum = 0;
        for (int b = 0; b < blocks; b++, w += typeSize, a += ActivationQuantizer.Block32Bytes)
        {
            float da = *(float*)a;
            sbyte* q = (sbyte*)(a + ActivationQuantizer.Block32QuantsOffset);
            int sumi = 0;
            if (type == GgmlType.Q8_0)
            {
                sbyte* qw = (sbyte*)(w + 2);
                for (int j = 0; j < 32; j++)
                {
                    sumi += qw[j] * q[j];
                }

                sum += Dequantizer.Half(w) * da * sumi;
                continue;
            }

            int offset = UnpackBlock32Scalar(type, w, u);
            for (int j = 0; j < 32; j++)
            {
                sumi += u[j] * q[j];
            }

            sumi -= offset * *(int*)(a + 8);
            sum += Block32Sum(type, w, da, *(float*)(a + 4), sumi);
        }

        return sum;
    }

    /// <summary>Rows of at least this many 32-element blocks use the 512-bit kernel; shorter rows the 256-bit one.</summary>
    internal const int Blocks32Vector512MinBlocks = 64;

    /// <summary>Bytes of a 32-element block, without the general layout table (this runs once per weight row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Block32Size(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => 18,
        GgmlType.Q4_1 => 20,
        GgmlType.Q5_0 => 22,
        GgmlType.Q5_1 => 24,
        _ => 34,
    };

    /// <summary>The float contribution of one block from its exact integer sum (ggml's formula per type).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Block32Sum(GgmlType type, byte* w, float da, float sa, int sumi) =>
        type is GgmlType.Q4_1 or GgmlType.Q5_1
            ? (Dequantizer.Half(w) * da * sumi) + (Dequantizer.Half(w + 2) * sa)
            : Dequantizer.Half(w) * da * sumi;

    /// <summary>Writes the 32 unsigned quants of a block and returns the offset that makes them signed.</summary>
    private static int UnpackBlock32Scalar(GgmlType type, byte* w, byte* u)
    {
        byte* qs;
        uint qh = 0;
        int offset;
        switch (type)
        {
            case GgmlType.Q4_0: qs = w + 2; offset = 8; break;
            case GgmlType.Q4_1: qs = w + 4; offset = 0; break;
            case GgmlType.Q5_0: qh = Unsafe.ReadUnaligned<uint>(w + 2); qs = w + 6; offset = 16; break;
            default: qh = Unsafe.ReadUnaligned<uint>(w + 4); qs = w + 8; offset = 0; break;
        }

        for (int j = 0; j < 16; j++)
        {
            u[j] = (byte)((uint)(qs[j] & 0xF) | (((qh >> j) & 1) << 4));
            u[j + 16] = (byte)((uint)(qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
        }

        return offset;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotBlocks32V256(GgmlType type, byte* w, byte* a, int blocks)
    {
        int typeSize = Block32Size(type);
        Vector256<float> acc = Vector256<float>.Zero;
        float scalar = 0;
        for (int b = 0; b < blocks; b++, w += typeSize, a += ActivationQuantizer.Block32Bytes)
        {
            float da = *(float*)a;
            Vector256<sbyte> q = Vector256.Load((sbyte*)(a + ActivationQuantizer.Block32QuantsOffset));
            Vector256<int> dot;
            float dd = Dequantizer.Half(w) * da;
            switch (type)
            {
                case GgmlType.Q8_0:
                    {
                        Vector256<sbyte> qw = Vector256.Load((sbyte*)(w + 2));
                        dot = DotU8S8(Avx2.Abs(qw), Avx2.Sign(q, qw));
                        break;
                    }

                case GgmlType.Q4_0:
                    dot = DotU8S8(UnpackNibbles(w + 2), q);
                    scalar -= dd * 8 * *(int*)(a + 8);
                    break;
                case GgmlType.Q4_1:
                    dot = DotU8S8(UnpackNibbles(w + 4), q);
                    scalar += Dequantizer.Half(w + 2) * *(float*)(a + 4);
                    break;
                case GgmlType.Q5_0:
                    dot = DotU8S8(UnpackNibbles(w + 6) | HighBits(Unsafe.ReadUnaligned<uint>(w + 2)), q);
                    scalar -= dd * 16 * *(int*)(a + 8);
                    break;
                default:
                    dot = DotU8S8(UnpackNibbles(w + 8) | HighBits(Unsafe.ReadUnaligned<uint>(w + 4)), q);
                    scalar += Dequantizer.Half(w + 2) * *(float*)(a + 4);
                    break;
            }

            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(dot), Vector256.Create(dd), acc);
        }

        return Vector256.Sum(acc) + scalar;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float DotBlocks32V512(GgmlType type, byte* w, byte* a, int blocks)
    {
        int typeSize = Block32Size(type);
        const int ab = ActivationQuantizer.Block32Bytes;
        const int aq = ActivationQuantizer.Block32QuantsOffset;
        Vector512<float> acc = Vector512<float>.Zero;
        float scalar = 0;
        int b = 0;
        for (; b <= blocks - 2; b += 2, w += 2 * typeSize, a += 2 * ab)
        {
            float dd0 = Dequantizer.Half(w) * *(float*)a;
            float dd1 = Dequantizer.Half(w + typeSize) * *(float*)(a + ab);
            Vector512<sbyte> q = Vector512.Create(Vector256.Load((sbyte*)(a + aq)), Vector256.Load((sbyte*)(a + ab + aq)));
            Vector512<int> dot;
            byte* w1 = w + typeSize;
            switch (type)
            {
                case GgmlType.Q8_0:
                    {
                        // Signed × signed: widen both to 16 bits and multiply-add pairs (AVX-512 has no vpsignb).
                        Vector512<short> w0 = Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)(w + 2)));
                        Vector512<short> w1v = Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)(w1 + 2)));
                        Vector512<short> q0 = Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)(a + aq)));
                        Vector512<short> q1 = Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)(a + ab + aq)));
                        Vector512<int> p0 = Avx512BW.MultiplyAddAdjacent(w0, q0), p1 = Avx512BW.MultiplyAddAdjacent(w1v, q1);

                        // Lanes 0-7 must hold block 0 and lanes 8-15 block 1: fold each product's halves.
                        dot = Vector512.Create(p0.GetLower() + p0.GetUpper(), p1.GetLower() + p1.GetUpper());
                        break;
                    }

                case GgmlType.Q4_0:
                    dot = DotU8S8(Vector512.Create(UnpackNibbles(w + 2), UnpackNibbles(w1 + 2)), q);
                    scalar -= 8 * ((dd0 * *(int*)(a + 8)) + (dd1 * *(int*)(a + ab + 8)));
                    break;
                case GgmlType.Q4_1:
                    dot = DotU8S8(Vector512.Create(UnpackNibbles(w + 4), UnpackNibbles(w1 + 4)), q);
                    scalar += (Dequantizer.Half(w + 2) * *(float*)(a + 4)) + (Dequantizer.Half(w1 + 2) * *(float*)(a + ab + 4));
                    break;
                case GgmlType.Q5_0:
                    dot = DotU8S8(Vector512.Create(
                        UnpackNibbles(w + 6) | HighBits(Unsafe.ReadUnaligned<uint>(w + 2)),
                        UnpackNibbles(w1 + 6) | HighBits(Unsafe.ReadUnaligned<uint>(w1 + 2))), q);
                    scalar -= 16 * ((dd0 * *(int*)(a + 8)) + (dd1 * *(int*)(a + ab + 8)));
                    break;
                default:
                    dot = DotU8S8(Vector512.Create(
                        UnpackNibbles(w + 8) | HighBits(Unsafe.ReadUnaligned<uint>(w + 4)),
                        UnpackNibbles(w1 + 8) | HighBits(Unsafe.ReadUnaligned<uint>(w1 + 4))), q);
                    scalar += (Dequantizer.Half(w + 2) * *(float*)(a + 4)) + (Dequantizer.Half(w1 + 2) * *(float*)(a + ab + 4));
                    break;
            }

            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(dot), Vector512.Create(Vector256.Create(dd0), Vector256.Create(dd1)), acc);
        }

        float sum = Vector512.Sum(acc) + scalar;
        return b < blocks ? sum + DotBlocks32V256(type, w, a, blocks - b) : sum;
    }

    /// <summary>The 32 nibbles of 16 bytes: low nibbles first, then high nibbles (ggml's order within a block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> UnpackNibbles(byte* qs)
    {
        Vector128<byte> q = Vector128.Load(qs);
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        return Vector256.Create(q & mask, Vector128.ShiftRightLogical(q, 4) & mask);
    }

    /// <summary>Bit e of <paramref name="qh"/> as 0x10 in byte e (the fifth bit of Q5 quants).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> HighBits(uint qh)
    {
        Vector256<byte> bytes = Avx2.Shuffle(Vector256.Create(qh).AsByte(), Vector256.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        Vector256<byte> bit = Vector256.Create(0x8040201008040201UL).AsByte();
        return Vector256.Equals(bytes & bit, bit) & Vector256.Create((byte)0x10);
    }

    /// <summary>Sums of 4 adjacent unsigned×signed byte products (no saturation while u·s pairs stay within ±32767).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> DotU8S8(Vector256<byte> u, Vector256<sbyte> s)
    {
        if (AvxVnni.IsSupported)
        {
            return AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, u, s);
        }

        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, s), Vector256<short>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> DotU8S8(Vector512<byte> u, Vector512<sbyte> s) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, s), Vector512<short>.One);
}
