namespace Tq.Core.Tensors;

/// <summary>The exceptions the quantization kernels throw, worded once.</summary>
internal static class QuantizationThrow
{
    /// <summary>The kernels have no implementation for <paramref name="type"/>.</summary>
    public static NotSupportedException Unsupported(GgmlType type) =>
        new($"The tensor type {type} (ggml id {(uint)type}) is not supported by the matrix kernels; supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K.");

    /// <summary>A length that is not a whole number of blocks.</summary>
    public static ArgumentException NotWholeBlocks(GgmlType type, long count, string parameterName) =>
        new($"{count} elements are not a whole number of {type} blocks of {GgmlTypeInfo.BlockSize(type)}.", parameterName);
}
