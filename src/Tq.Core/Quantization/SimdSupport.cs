using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tq.Core.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// Resolves <see cref="SimdPath.Auto"/> for the quantization kernels and tells which paths this machine can run.
/// Unlike <see cref="SimdPaths"/> (matrix kernels, which fall back), asking for a path the machine lacks throws:
/// the code kernels' tests must never silently run another path.
/// </summary>
internal static class SimdSupport
{
    /// <summary>The widest supported path.</summary>
    public static SimdPath Best { get; } =
        IsSupported(SimdPath.Vector512) ? SimdPath.Vector512 :
        IsSupported(SimdPath.Vector256) ? SimdPath.Vector256 : SimdPath.Scalar;

    /// <summary>Every path this machine can run (Scalar first), for tests.</summary>
    public static IReadOnlyList<SimdPath> Supported { get; } =
        new[] { SimdPath.Scalar, SimdPath.Vector256, SimdPath.Vector512 }.Where(IsSupported).ToArray();

    public static bool IsSupported(SimdPath path) => path switch
    {
        SimdPath.Auto or SimdPath.Scalar => true,
        // The kernels use byte shuffles, variable shifts and permutes, hence the explicit ISA checks.
        SimdPath.Vector256 => Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported,
        SimdPath.Vector512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported,
        _ => false,
    };

    public static SimdPath Resolve(SimdPath path)
    {
        if (path == SimdPath.Auto)
        {
            return Best;
        }

        if (!IsSupported(path))
        {
            throw new PlatformNotSupportedException($"SIMD path {path} is not supported on this machine.");
        }

        return path;
    }
}
