using System.Diagnostics.CodeAnalysis;

namespace Tq.Core.Tensors;

/// <summary>
/// The one SIMD resolver of the engine (matrix, tensor and quantization kernels alike): resolves
/// <see cref="SimdPath.Auto"/> and tells which paths this machine can run.
/// </summary>
/// <remarks>
/// One rule: <see cref="SimdPath.Auto"/> is the best path of the machine; an explicit path is run as asked, and a path
/// the machine lacks throws <see cref="PlatformNotSupportedException"/> rather than silently running another one, so a
/// test over <see cref="Supported"/> checks exactly the kernel it names. The engine itself only ever asks for
/// <see cref="SimdPath.Auto"/>.
/// </remarks>
internal static class SimdPaths
{
    /// <summary>Whether the 256-bit path can run: the kernels use AVX2 byte shuffles, multiply-adds and variable shifts, and FMA.</summary>
    public static readonly bool Vector256Supported =
        Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Whether the 512-bit path can run: the kernels use AVX-512BW byte multiply-adds and permutes (and 256-bit tails).</summary>
    public static readonly bool Vector512Supported =
        Vector256Supported && Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported;

    /// <summary>The best path of this machine.</summary>
    public static readonly SimdPath Best =
        Vector512Supported ? SimdPath.Vector512 : Vector256Supported ? SimdPath.Vector256 : SimdPath.Scalar;

    /// <summary>Every path this machine can run, scalar first (for tests).</summary>
    public static IReadOnlyList<SimdPath> Supported { get; } =
        [SimdPath.Scalar, .. Vector256Supported ? new[] { SimdPath.Vector256 } : [], .. Vector512Supported ? new[] { SimdPath.Vector512 } : []];

    /// <summary>Whether this machine can run <paramref name="path"/> (<see cref="SimdPath.Auto"/> always can).</summary>
    public static bool IsSupported(SimdPath path) => path switch
    {
        SimdPath.Auto or SimdPath.Scalar => true,
        SimdPath.Vector256 => Vector256Supported,
        SimdPath.Vector512 => Vector512Supported,
        _ => false,
    };

    /// <summary>Maps <see cref="SimdPath.Auto"/> to <see cref="Best"/>; returns any other path this machine can run unchanged.</summary>
    /// <exception cref="PlatformNotSupportedException"><paramref name="path"/> is a path this machine cannot run.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdPath Resolve(SimdPath path)
    {
        if (path == SimdPath.Auto)
        {
            return Best;
        }

        if (!IsSupported(path))
        {
            ThrowNotSupported(path);
        }

        return path;
    }

    [DoesNotReturn]
    private static void ThrowNotSupported(SimdPath path) =>
        throw new PlatformNotSupportedException($"SIMD path {path} is not supported on this machine.");
}
