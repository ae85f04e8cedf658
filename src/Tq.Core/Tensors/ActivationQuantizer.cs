namespace Tq.Core.Tensors;

/// <summary>
/// Converts float activations to the form a weight type's dot product consumes (ggml's <c>vec_dot_type</c>): rounded
/// through FP16/BF16 for F16/BF16 weights, 8-bit blocks of 32 for Q4_0..Q8_0 (ggml's Q8_0/Q8_1, with the x86 rounding
/// of <c>quantize_row_q8_0</c>: scale 127/amax, round half to even), and Q8_K super-blocks of 256 for K-quants
/// (<c>quantize_row_q8_K_ref</c>). Quantizing once per activation row and reusing it for every weight row is what
/// makes the dot products cheap, and copying ggml's rounding is what makes the results match llama.cpp's.
/// </summary>
/// <remarks>
/// The 32-element block (<see cref="Block32Bytes"/> bytes) is laid out as: float d (the FP16-rounded scale), float s
/// (FP16-rounded d·Σq, ggml's Q8_1 sum), int Σq, 4 bytes padding, 32 signed quants. The Q8_K block is ggml's
/// block_q8_K: float d, 256 signed quants, 16 int16 sums of 16 quants.
/// </remarks>
internal static unsafe class ActivationQuantizer
{
    /// <summary>Bytes of one quantized 32-element activation block.</summary>
    public const int Block32Bytes = 48;

    /// <summary>Offset of the 32 quants inside a 32-element block.</summary>
    public const int Block32QuantsOffset = 16;

    /// <summary>Bytes of one Q8_K super-block.</summary>
    public const int BlockKBytes = 292;

    /// <summary>The activation form the dot product of <paramref name="weightType"/> consumes.</summary>
    public static ActivationKind KindFor(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => ActivationKind.Float,
        GgmlType.F16 => ActivationKind.HalfRounded,
        GgmlType.BF16 => ActivationKind.BFloat16Rounded,
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 => ActivationKind.Q8Block32,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K => ActivationKind.Q8K,
        _ => throw QuantizationThrow.Unsupported(weightType),
    };

    /// <summary>Bytes one quantized activation row of <paramref name="count"/> elements takes.</summary>
    public static int RowBytes(ActivationKind kind, int count) => kind switch
    {
        ActivationKind.Q8Block32 => count / 32 * Block32Bytes,
        ActivationKind.Q8K => count / 256 * BlockKBytes,
        _ => count * sizeof(float),
    };

    /// <summary>Quantizes one activation row of <paramref name="count"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeRow(ActivationKind kind, float* source, byte* destination, int count)
    {
        switch (kind)
        {
            case ActivationKind.Float:
                Buffer.MemoryCopy(source, destination, (long)count * 4, (long)count * 4);
                break;
            case ActivationKind.HalfRounded:
                {
                    Half* chunk = stackalloc Half[256];
                    for (int i = 0; i < count; i += 256)
                    {
                        int n = Math.Min(256, count - i);
                        FloatConversion.SingleToHalf(new ReadOnlySpan<float>(source + i, n), new Span<Half>(chunk, n));
                        FloatConversion.HalfToSingle((ushort*)chunk, (float*)destination + i, n, SimdPath.Auto);
                    }

                    break;
                }
            case ActivationKind.BFloat16Rounded:
                for (int i = 0; i < count; i++)
                {
                    ((float*)destination)[i] = FloatConversion.BFloat16ToSingle(FloatConversion.SingleToBFloat16(source[i]));
                }

                break;
            case ActivationKind.Q8Block32:
                QuantizeBlocks32(source, destination, count / 32);
                break;
            case ActivationKind.Q8K:
                QuantizeBlocksK(source, destination, count / 256);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>
    /// Replaces each activation by the value its quantized form stands for (d·q), so a float matrix product of
    /// dequantized weights with these equals, in exact arithmetic, ggml's integer dot product.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeRow(ActivationKind kind, byte* source, float* destination, int count)
    {
        switch (kind)
        {
            case ActivationKind.Q8Block32:
                for (int b = 0; b < count / 32; b++)
                {
                    byte* block = source + (b * Block32Bytes);
                    DequantizeQuants(*(float*)block, (sbyte*)(block + Block32QuantsOffset), destination + (b * 32), 32);
                }

                break;
            case ActivationKind.Q8K:
                for (int b = 0; b < count / 256; b++)
                {
                    byte* block = source + (b * BlockKBytes);
                    DequantizeQuants(*(float*)block, (sbyte*)(block + 4), destination + (b * 256), 256);
                }

                break;
            default:
                Buffer.MemoryCopy(source, destination, (long)count * 4, (long)count * 4);
                break;
        }
    }

    /// <summary>destination[j] = d · q[j], the same single rounding on every path.</summary>
    private static void DequantizeQuants(float d, sbyte* q, float* destination, int count)
    {
        int j = 0;
        if (Avx2.IsSupported)
        {
            Vector256<float> dv = Vector256.Create(d);
            for (; j <= count - 8; j += 8)
            {
                (Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(q + j)) * dv).Store(destination + j);
            }
        }

        for (; j < count; j++)
        {
            destination[j] = d * q[j];
        }
    }

    private static void QuantizeBlocks32(float* x, byte* y, int blocks)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            QuantizeBlocks32Vector(x, y, blocks);
            return;
        }

        QuantizeBlocks32Scalar(x, y, blocks);
    }

    /// <summary>Vector form of <see cref="QuantizeBlocks32Scalar"/>: the same operations (max of |x|, one multiply, round half to even), so the same bits.</summary>
    internal static void QuantizeBlocks32Vector(float* x, byte* y, int blocks)
    {
        for (int b = 0; b < blocks; b++, x += 32, y += Block32Bytes)
        {
            Vector256<float> v0 = Vector256.Load(x), v1 = Vector256.Load(x + 8), v2 = Vector256.Load(x + 16), v3 = Vector256.Load(x + 24);
            Vector256<float> m = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
            float amax = 0;
            for (int j = 0; j < 8; j++)
            {
                amax = MathF.Max(amax, m[j]);
            }

            if (!float.IsFinite(amax))
            {
                QuantizeBlocks32Scalar(x, y, 1);
                continue;
            }

            float d = amax / 127f;
            var id = Vector256.Create(amax != 0 ? 127f / amax : 0f);
            Vector256<int> q0 = Vector256.ConvertToInt32(Vector256.Round(v0 * id)), q1 = Vector256.ConvertToInt32(Vector256.Round(v1 * id));
            Vector256<int> q2 = Vector256.ConvertToInt32(Vector256.Round(v2 * id)), q3 = Vector256.ConvertToInt32(Vector256.Round(v3 * id));
            Vector256<short> s01 = Vector256.Narrow(q0, q1), s23 = Vector256.Narrow(q2, q3);
            Vector256.Narrow(s01, s23).Store((sbyte*)(y + Block32QuantsOffset));
            int sum = Vector256.Sum(q0 + q1 + q2 + q3);
            *(float*)y = FloatConversion.RoundToHalf(d);
            *(float*)(y + 4) = FloatConversion.RoundToHalf(d * sum);
            *(int*)(y + 8) = sum;
            *(int*)(y + 12) = 0;
        }
    }

    /// <summary>Scalar quantization of 32-element blocks (the reference of the vector form).</summary>
    internal static void QuantizeBlocks32Scalar(float* x, byte* y, int blocks)
    {
        for (int b = 0; b < blocks; b++, x += 32, y += Block32Bytes)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++)
            {
                amax = MathF.Max(amax, MathF.Abs(x[j]));
            }

            if (!float.IsFinite(amax))
            {
                throw new ArgumentException("The activations contain NaN or infinity.", nameof(x));
            }

            float d = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            sbyte* q = (sbyte*)(y + Block32QuantsOffset);
            int sum = 0;
            for (int j = 0; j < 32; j++)
            {
                int v = (int)MathF.Round(x[j] * id);
                q[j] = (sbyte)v;
                sum += v;
            }

            float dh = FloatConversion.RoundToHalf(d);
            *(float*)y = dh;
            *(float*)(y + 4) = FloatConversion.RoundToHalf(d * sum);
            *(int*)(y + 8) = sum;
            *(int*)(y + 12) = 0;
        }
    }

    private static void QuantizeBlocksK(float* x, byte* y, int blocks)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            QuantizeBlocksKVector(x, y, blocks);
            return;
        }

        QuantizeBlocksKScalar(x, y, blocks);
    }

    /// <summary>Vector form of <see cref="QuantizeBlocksKScalar"/> with the same operations, so the same bits.</summary>
    internal static void QuantizeBlocksKVector(float* x, byte* y, int blocks)
    {
        for (int b = 0; b < blocks; b++, x += 256, y += BlockKBytes)
        {
            Vector256<float> m = Vector256<float>.Zero;
            for (int j = 0; j < 256; j += 8)
            {
                m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + j)));
            }

            float amax = 0;
            for (int j = 0; j < 8; j++)
            {
                amax = MathF.Max(amax, m[j]);
            }

            if (!float.IsFinite(amax) || amax == 0)
            {
                QuantizeBlocksKScalar(x, y, 1);
                continue;
            }

            // ggml keeps the signed value of the first element of largest magnitude.
            int first = 0;
            while (MathF.Abs(x[first]) != amax)
            {
                first++;
            }

            float iscale = -127f / x[first];
            var scale = Vector256.Create(iscale);
            var limit = Vector256.Create(127);
            sbyte* q = (sbyte*)(y + 4);
            short* bsums = (short*)(y + 260);
            for (int j = 0; j < 256; j += 16)
            {
                Vector256<int> q0 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + j) * scale)), limit);
                Vector256<int> q1 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + j + 8) * scale)), limit);
                Vector128<sbyte> packed = Vector128.Narrow(Vector256.Narrow(q0, q1).GetLower(), Vector256.Narrow(q0, q1).GetUpper());
                packed.Store(q + j);
                bsums[j / 16] = (short)Vector256.Sum(q0 + q1);
            }

            *(float*)y = 1 / iscale;
        }
    }

    /// <summary>Scalar ggml <c>quantize_row_q8_K_ref</c> (the reference of the vector form).</summary>
    internal static void QuantizeBlocksKScalar(float* x, byte* y, int blocks)
    {
        for (int b = 0; b < blocks; b++, x += 256, y += BlockKBytes)
        {
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax)
                {
                    amax = ax;
                    max = x[j];
                }
                else if (float.IsNaN(ax))
                {
                    amax = float.NaN;
                    break;
                }
            }

            if (!float.IsFinite(amax))
            {
                throw new ArgumentException("The activations contain NaN or infinity.", nameof(x));
            }

            sbyte* q = (sbyte*)(y + 4);
            short* bsums = (short*)(y + 260);
            if (amax == 0)
            {
                *(float*)y = 0;
                new Span<byte>(y + 4, 256 + 32).Clear();
                continue;
            }

            float iscale = -127f / max;
            for (int j = 0; j < 256; j++)
            {
                q[j] = (sbyte)Math.Min(127, NearestInt(iscale * x[j]));
            }

            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int i = 0; i < 16; i++)
                {
                    sum += q[(j * 16) + i];
                }

                bsums[j] = (short)sum;
            }

            *(float*)y = 1 / iscale;
        }
    }

    /// <summary>Round half to even, as ggml's <c>nearest_int</c> (the 1.5·2^23 trick) for |x| &lt; 2^22.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NearestInt(float value) => (int)MathF.Round(value);
}
