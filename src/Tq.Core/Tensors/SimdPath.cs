namespace Tq.Core.Tensors;

/// <summary>
/// Which instruction-set path a kernel runs. Production code passes <see cref="Auto"/>; tests pass each concrete
/// path so every path is compared with <see cref="Scalar"/>.
/// </summary>
internal enum SimdPath
{
    /// <summary>The widest path the machine supports.</summary>
    Auto,

    /// <summary>Plain scalar code: the reference every vector path must equal.</summary>
    Scalar,

    /// <summary>256-bit vectors (AVX2 + FMA on x64).</summary>
    Vector256,

    /// <summary>512-bit vectors (AVX-512 F/BW on x64).</summary>
    Vector512,
}
