using System.Numerics.Tensors;

namespace Tq.Core.Tensors;

/// <summary>
/// FP16 and BF16 to and from float, for spans and for single vectors inside kernels. FP16 is decoded with integer
/// and float operations (exact for normals, subnormals, infinities and NaN) because .NET exposes no F16C intrinsic.
/// BF16 is rounded to nearest even, NaN kept quiet, exactly as ggml's <c>ggml_compute_fp32_to_bf16</c>.
/// </summary>
internal static unsafe class FloatConversion
{
    // 2^112: rescales an FP16 exponent/mantissa pair shifted into FP32 position (bias 15 read as bias 127).
    private const uint HalfRescaleBits = 0x77800000;

    /// <summary>Converts FP16 values to float.</summary>
    public static void HalfToSingle(ReadOnlySpan<Half> source, Span<float> destination, SimdPath path = SimdPath.Auto)
    {
        CheckDestination(source.Length, destination.Length);

        fixed (Half* s = source)
        fixed (float* d = destination)
        {
            HalfToSingle((ushort*)s, d, source.Length, path);
        }
    }

    /// <summary>Converts floats to FP16, rounding to nearest even (overflow to infinity, as IEEE and ggml do).</summary>
    public static void SingleToHalf(ReadOnlySpan<float> source, Span<Half> destination)
    {
        CheckDestination(source.Length, destination.Length);

        TensorPrimitives.ConvertToHalf(source, destination[..source.Length]);
    }

    /// <summary>Converts BF16 bit patterns to float.</summary>
    public static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination, SimdPath path = SimdPath.Auto)
    {
        CheckDestination(source.Length, destination.Length);

        fixed (ushort* s = source)
        fixed (float* d = destination)
        {
            BFloat16ToSingle(s, d, source.Length, path);
        }
    }

    /// <summary>Converts floats to BF16 bit patterns, rounding to nearest even as ggml does.</summary>
    public static void SingleToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination, SimdPath path = SimdPath.Auto)
    {
        CheckDestination(source.Length, destination.Length);

        fixed (float* s = source)
        fixed (ushort* d = destination)
        {
            SingleToBFloat16(s, d, source.Length, path);
        }
    }

    /// <summary>One FP16 bit pattern to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToSingle(ushort bits)
    {
        // Exponent and mantissa shifted into float position and rescaled by 2^112: exact for normals and subnormals,
        // a few instructions instead of the general Half conversion; infinities and NaN take the slow path.
        uint em = bits & 0x7fffu;
        if (em >= 0x7c00u)
        {
            return (float)BitConverter.UInt16BitsToHalf(bits);
        }

        float magnitude = BitConverter.UInt32BitsToSingle(em << 13) * BitConverter.UInt32BitsToSingle(HalfRescaleBits);
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(magnitude) | ((uint)(bits & 0x8000) << 16));
    }

    /// <summary>One float to an FP16 bit pattern (round to nearest even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort SingleToHalfBits(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>Rounds a float to the nearest FP16 value and back, as storing it in a ggml half field does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundToHalf(float value) => (float)(Half)value;

    /// <summary>One BF16 bit pattern to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BFloat16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>One float to BF16 bits, as <c>ggml_compute_fp32_to_bf16</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort SingleToBFloat16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffff) > 0x7f800000)
        {
            return (ushort)((u >> 16) | 64);
        }

        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }

    private static void CheckDestination(int sourceLength, int destinationLength, string paramName = "destination")
    {
        if (destinationLength < sourceLength)
        {
            throw new ArgumentException("The destination is shorter than the source.", paramName);
        }
    }

    /// <summary>FP16 bits to float, pointer form for kernels.</summary>
    public static void HalfToSingle(ushort* source, float* destination, int count, SimdPath path) =>
        Widen<FromHalf>(source, destination, count, path);

    /// <summary>BF16 bits to float, pointer form for kernels.</summary>
    public static void BFloat16ToSingle(ushort* source, float* destination, int count, SimdPath path) =>
        Widen<FromBFloat16>(source, destination, count, path);

    // One loop for both 16-bit formats: the JIT compiles it once per format, with the format's conversions inlined.
    private static void Widen<TFormat>(ushort* source, float* destination, int count, SimdPath path)
        where TFormat : struct, IWideningFormat
    {
        path = SimdPaths.Resolve(path);
        int i = 0;
        if (path == SimdPath.Vector512)
        {
            for (; i <= count - 16; i += 16)
            {
                TFormat.Widen512(source + i).Store(destination + i);
            }
        }
        else if (path == SimdPath.Vector256)
        {
            for (; i <= count - 8; i += 8)
            {
                TFormat.Widen256(source + i).Store(destination + i);
            }
        }

        for (; i < count; i++)
        {
            destination[i] = TFormat.Widen(source[i]);
        }
    }

    private interface IWideningFormat
    {
        static abstract Vector512<float> Widen512(ushort* source);

        static abstract Vector256<float> Widen256(ushort* source);

        static abstract float Widen(ushort bits);
    }

    private readonly struct FromHalf : IWideningFormat
    {
        public static Vector512<float> Widen512(ushort* source) => HalfToSingle512(source);

        public static Vector256<float> Widen256(ushort* source) => HalfToSingle256(source);

        public static float Widen(ushort bits) => HalfToSingle(bits);
    }

    private readonly struct FromBFloat16 : IWideningFormat
    {
        public static Vector512<float> Widen512(ushort* source) => BFloat16ToSingle512(source);

        public static Vector256<float> Widen256(ushort* source) => BFloat16ToSingle256(source);

        public static float Widen(ushort bits) => BFloat16ToSingle(bits);
    }

    /// <summary>Float to BF16 bits, pointer form for kernels.</summary>
    public static void SingleToBFloat16(float* source, ushort* destination, int count, SimdPath path)
    {
        path = SimdPaths.Resolve(path);
        int i = 0;
        if (path == SimdPath.Vector512)
        {
            for (; i <= count - 16; i += 16)
            {
                Vector512<uint> u = Vector512.Load((uint*)source + i);
                Vector512<uint> rounded = (u + Vector512.Create(0x7fffu) + ((u >> 16) & Vector512<uint>.One)) >> 16;
                Vector512<uint> nan = Vector512.GreaterThan(u & Vector512.Create(0x7fffffffu), Vector512.Create(0x7f800000u));
                Vector512<uint> bits = Vector512.ConditionalSelect(nan, (u >> 16) | Vector512.Create(64u), rounded);
                Vector256<ushort> narrow = Vector256.Narrow(bits.GetLower(), bits.GetUpper());
                narrow.Store(destination + i);
            }
        }
        else if (path == SimdPath.Vector256)
        {
            for (; i <= count - 8; i += 8)
            {
                Vector256<uint> u = Vector256.Load((uint*)source + i);
                Vector256<uint> rounded = (u + Vector256.Create(0x7fffu) + ((u >> 16) & Vector256<uint>.One)) >> 16;
                Vector256<uint> nan = Vector256.GreaterThan(u & Vector256.Create(0x7fffffffu), Vector256.Create(0x7f800000u));
                Vector256<uint> bits = Vector256.ConditionalSelect(nan, (u >> 16) | Vector256.Create(64u), rounded);
                Vector128<ushort> narrow = Vector128.Narrow(bits.GetLower(), bits.GetUpper());
                narrow.Store(destination + i);
            }
        }

        for (; i < count; i++)
        {
            destination[i] = SingleToBFloat16(source[i]);
        }
    }

    /// <summary>Decodes 16 FP16 values at <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfToSingle512(ushort* source)
    {
        Vector512<uint> h = Vector512.WidenLower(Vector256.Load(source).ToVector512Unsafe());
        Vector512<uint> em = h & Vector512.Create(0x7fffu);
        Vector512<uint> shifted = em << 13;
        Vector512<float> value = shifted.AsSingle() * Vector512.Create(BitConverter.UInt32BitsToSingle(HalfRescaleBits));
        Vector512<uint> special = Vector512.GreaterThanOrEqual(em, Vector512.Create(0x7c00u));
        Vector512<uint> bits = Vector512.ConditionalSelect(special, shifted | Vector512.Create(0x7f800000u), value.AsUInt32());
        return (bits | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>Decodes 8 FP16 values at <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HalfToSingle256(ushort* source)
    {
        Vector256<uint> h = Vector256.WidenLower(Vector128.Load(source).ToVector256Unsafe());
        Vector256<uint> em = h & Vector256.Create(0x7fffu);
        Vector256<uint> shifted = em << 13;
        Vector256<float> value = shifted.AsSingle() * Vector256.Create(BitConverter.UInt32BitsToSingle(HalfRescaleBits));
        Vector256<uint> special = Vector256.GreaterThanOrEqual(em, Vector256.Create(0x7c00u));
        Vector256<uint> bits = Vector256.ConditionalSelect(special, shifted | Vector256.Create(0x7f800000u), value.AsUInt32());
        return (bits | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>Decodes 16 BF16 values at <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> BFloat16ToSingle512(ushort* source) =>
        (Vector512.WidenLower(Vector256.Load(source).ToVector512Unsafe()) << 16).AsSingle();

    /// <summary>Decodes 8 BF16 values at <paramref name="source"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> BFloat16ToSingle256(ushort* source) =>
        (Vector256.WidenLower(Vector128.Load(source).ToVector256Unsafe()) << 16).AsSingle();
}
