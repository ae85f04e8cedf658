using Tq.Core.Tensors;

namespace Tq.Core.Gguf;

/// <summary>
/// A tensor described in a GGUF file: its name, ggml type, shape (ggml order: <c>Dimensions[0]</c> is the
/// contiguous row length) and the location of its data relative to the start of the data section.
/// </summary>
public sealed class GgufTensorInfo
{
    internal GgufTensorInfo(string name, GgmlType type, long[] dimensions, long offset, long byteSize)
    {
        Name = name;
        Type = type;
        Dimensions = dimensions;
        Offset = offset;
        ByteSize = byteSize;
        long count = 1;
        foreach (long d in dimensions)
        {
            count *= d;
        }

        ElementCount = count;
    }

    /// <summary>The tensor's name, e.g. <c>blk.0.attn_q.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public GgmlType Type { get; }

    /// <summary>The shape in ggml order (ne0 first: the contiguous dimension).</summary>
    public IReadOnlyList<long> Dimensions { get; }

    /// <summary>The number of elements.</summary>
    public long ElementCount { get; }

    /// <summary>The data offset relative to the start of the file's data section.</summary>
    public long Offset { get; }

    /// <summary>The size of the tensor's data in bytes.</summary>
    public long ByteSize { get; }

    /// <summary>The row length (ne0).</summary>
    public long Columns => Dimensions[0];

    /// <summary>The number of rows: the product of every dimension after the first.</summary>
    public long Rows => Dimensions.Count == 0 ? 0 : ElementCount / Dimensions[0];

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Type} [{string.Join(", ", Dimensions)}]";
}
