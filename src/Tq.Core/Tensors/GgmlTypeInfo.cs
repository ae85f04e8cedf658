namespace Tq.Core.Tensors;

/// <summary>
/// Block geometry of each <see cref="GgmlType"/>: how many elements a block holds and how many bytes it takes,
/// exactly as ggml's type traits define them. Used to size tensors and to validate tensor extents in GGUF files.
/// </summary>
internal static class GgmlTypeInfo
{
    /// <summary>Returns whether <paramref name="type"/> is a type id this library knows the layout of.</summary>
    public static bool IsKnown(GgmlType type) => TryGetLayout(type, out _, out _);

    /// <summary>Elements per block (1 for plain scalar types).</summary>
    /// <exception cref="NotSupportedException">The type id is unknown.</exception>
    public static int BlockSize(GgmlType type) =>
        TryGetLayout(type, out int blockSize, out _) ? blockSize : throw Unknown(type);

    /// <summary>Bytes per block.</summary>
    /// <exception cref="NotSupportedException">The type id is unknown.</exception>
    public static int TypeSize(GgmlType type) =>
        TryGetLayout(type, out _, out int typeSize) ? typeSize : throw Unknown(type);

    /// <summary>
    /// Bytes taken by one row of <paramref name="elements"/> elements.
    /// </summary>
    /// <exception cref="ArgumentException">The element count is not a multiple of the block size.</exception>
    public static long RowSize(GgmlType type, long elements)
    {
        int blockSize = BlockSize(type);
        if (elements < 0 || elements % blockSize != 0)
        {
            throw new ArgumentException($"A row of {elements} elements is not a whole number of {type} blocks of {blockSize}.", nameof(elements));
        }

        return elements / blockSize * TypeSize(type);
    }

    /// <summary>Tries to get the block layout of a type id.</summary>
    public static bool TryGetLayout(GgmlType type, out int blockSize, out int typeSize)
    {
        (blockSize, typeSize) = type switch
        {
            GgmlType.F32 => (1, 4),
            GgmlType.F16 => (1, 2),
            GgmlType.BF16 => (1, 2),
            GgmlType.F64 => (1, 8),
            GgmlType.I8 => (1, 1),
            GgmlType.I16 => (1, 2),
            GgmlType.I32 => (1, 4),
            GgmlType.I64 => (1, 8),
            GgmlType.Q4_0 => (32, 18),
            GgmlType.Q4_1 => (32, 20),
            GgmlType.Q5_0 => (32, 22),
            GgmlType.Q5_1 => (32, 24),
            GgmlType.Q8_0 => (32, 34),
            GgmlType.Q8_1 => (32, 36),
            GgmlType.Q2_K => (256, 84),
            GgmlType.Q3_K => (256, 110),
            GgmlType.Q4_K => (256, 144),
            GgmlType.Q5_K => (256, 176),
            GgmlType.Q6_K => (256, 210),
            GgmlType.Q8_K => (256, 292),
            GgmlType.IQ2_XXS => (256, 66),
            GgmlType.IQ2_XS => (256, 74),
            GgmlType.IQ3_XXS => (256, 98),
            GgmlType.IQ1_S => (256, 50),
            GgmlType.IQ4_NL => (32, 18),
            GgmlType.IQ3_S => (256, 110),
            GgmlType.IQ2_S => (256, 82),
            GgmlType.IQ4_XS => (256, 136),
            GgmlType.IQ1_M => (256, 56),
            GgmlType.TQ1_0 => (256, 54),
            GgmlType.TQ2_0 => (256, 66),
            GgmlType.MXFP4 => (32, 17),
            _ => (0, 0),
        };
        return blockSize != 0;
    }

    private static NotSupportedException Unknown(GgmlType type) =>
        new($"ggml type id {(uint)type} is not a known tensor type.");
}
