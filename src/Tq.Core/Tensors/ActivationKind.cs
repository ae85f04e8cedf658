namespace Tq.Core.Tensors;

/// <summary>The form activations take for a weight type's dot product (ggml's <c>vec_dot_type</c>).</summary>
internal enum ActivationKind
{
    /// <summary>Plain floats (F32 weights).</summary>
    Float,

    /// <summary>Floats rounded through FP16 (F16 weights: ggml converts activations to F16).</summary>
    HalfRounded,

    /// <summary>Floats rounded through BF16 (BF16 weights).</summary>
    BFloat16Rounded,

    /// <summary>8-bit blocks of 32 with scale and sum (ggml Q8_0 / Q8_1).</summary>
    Q8Block32,

    /// <summary>8-bit super-blocks of 256 with float scale and 16-element sums (ggml Q8_K).</summary>
    Q8K,
}
