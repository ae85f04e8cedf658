using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tq.Core.Tensors;

/// <summary>Resolves <see cref="SimdPath.Auto"/> and tells which paths this machine can run.</summary>
internal static class SimdPaths
{
    /// <summary>Whether the 256-bit path can run: the integer kernels use AVX2 byte multiply-adds.</summary>
    public static readonly bool Vector256Supported =
        Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Whether the 512-bit path can run: the integer kernels use AVX-512BW byte multiply-adds.</summary>
    public static readonly bool Vector512Supported =
        Vector256Supported && Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported;

    /// <summary>The best path of this machine.</summary>
    public static readonly SimdPath Best =
        Vector512Supported ? SimdPath.Vector512 : Vector256Supported ? SimdPath.Vector256 : SimdPath.Scalar;

    /// <summary>Every path this machine can run, scalar first (for tests).</summary>
    public static IReadOnlyList<SimdPath> Supported { get; } =
        [SimdPath.Scalar, .. Vector256Supported ? new[] { SimdPath.Vector256 } : [], .. Vector512Supported ? new[] { SimdPath.Vector512 } : []];

    /// <summary>
    /// Maps <see cref="SimdPath.Auto"/> to <see cref="Best"/> and a path the machine cannot run to the best one it can,
    /// so a caller asking for more than the hardware has still gets a correct result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdPath Resolve(SimdPath path) => path switch
    {
        SimdPath.Scalar => SimdPath.Scalar,
        SimdPath.Vector256 => Vector256Supported ? SimdPath.Vector256 : SimdPath.Scalar,
        SimdPath.Vector512 => Best,
        _ => Best,
    };
}
