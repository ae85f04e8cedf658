namespace Tq.Core.Quantization;

/// <summary>Which instruction set a quantization kernel uses. Internal so tests can force every path.</summary>
internal enum SimdPath
{
    /// <summary>The widest path the machine accelerates.</summary>
    Auto = 0,

    /// <summary>Plain scalar code, the reference every other path must match.</summary>
    Scalar = 1,

    /// <summary>AVX2 (256-bit) kernels.</summary>
    Vector256 = 2,

    /// <summary>AVX-512 F/BW (512-bit) kernels.</summary>
    Vector512 = 3,
}
