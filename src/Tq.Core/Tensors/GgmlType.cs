namespace Tq.Core.Tensors;

/// <summary>
/// The tensor element types of ggml, with the numeric ids the GGUF format stores. Ids that ggml retired are absent.
/// </summary>
#pragma warning disable CA1707 // Names follow ggml's spelling (Q4_K, IQ2_XXS) so they read the same as llama.cpp's output.
public enum GgmlType : uint
{
    /// <summary>32-bit IEEE float.</summary>
    F32 = 0,
    /// <summary>16-bit IEEE float.</summary>
    F16 = 1,
    /// <summary>4-bit, blocks of 32 with one FP16 scale.</summary>
    Q4_0 = 2,
    /// <summary>4-bit, blocks of 32 with FP16 scale and minimum.</summary>
    Q4_1 = 3,
    /// <summary>5-bit, blocks of 32 with one FP16 scale.</summary>
    Q5_0 = 6,
    /// <summary>5-bit, blocks of 32 with FP16 scale and minimum.</summary>
    Q5_1 = 7,
    /// <summary>8-bit, blocks of 32 with one FP16 scale.</summary>
    Q8_0 = 8,
    /// <summary>8-bit, blocks of 32 with FP16 scale and sum (activations).</summary>
    Q8_1 = 9,
    /// <summary>2-bit K-quant, super-blocks of 256.</summary>
    Q2_K = 10,
    /// <summary>3-bit K-quant, super-blocks of 256.</summary>
    Q3_K = 11,
    /// <summary>4-bit K-quant, super-blocks of 256.</summary>
    Q4_K = 12,
    /// <summary>5-bit K-quant, super-blocks of 256.</summary>
    Q5_K = 13,
    /// <summary>6-bit K-quant, super-blocks of 256.</summary>
    Q6_K = 14,
    /// <summary>8-bit K-quant used for activations, super-blocks of 256.</summary>
    Q8_K = 15,
    /// <summary>2.06-bit importance quant.</summary>
    IQ2_XXS = 16,
    /// <summary>2.31-bit importance quant.</summary>
    IQ2_XS = 17,
    /// <summary>3.06-bit importance quant.</summary>
    IQ3_XXS = 18,
    /// <summary>1.56-bit importance quant.</summary>
    IQ1_S = 19,
    /// <summary>4-bit non-linear quant, blocks of 32.</summary>
    IQ4_NL = 20,
    /// <summary>3.44-bit importance quant.</summary>
    IQ3_S = 21,
    /// <summary>2.5-bit importance quant.</summary>
    IQ2_S = 22,
    /// <summary>4.25-bit non-linear quant, super-blocks of 256.</summary>
    IQ4_XS = 23,
    /// <summary>8-bit integer.</summary>
    I8 = 24,
    /// <summary>16-bit integer.</summary>
    I16 = 25,
    /// <summary>32-bit integer.</summary>
    I32 = 26,
    /// <summary>64-bit integer.</summary>
    I64 = 27,
    /// <summary>64-bit IEEE float.</summary>
    F64 = 28,
    /// <summary>1.75-bit importance quant.</summary>
    IQ1_M = 29,
    /// <summary>bfloat16.</summary>
    BF16 = 30,
    /// <summary>Ternary 1.69-bit quant.</summary>
    TQ1_0 = 34,
    /// <summary>Ternary 2.06-bit quant.</summary>
    TQ2_0 = 35,
    /// <summary>MX FP4, blocks of 32 with an E8M0 scale.</summary>
    MXFP4 = 39,
}
#pragma warning restore CA1707
