using Tq.Core.Gguf;

namespace Tq.Core.Tensors;

/// <summary>
/// A row-major weight matrix in ggml layout, viewed in place (typically inside a memory-mapped GGUF file): a ggml
/// tensor with ne0 = <see cref="Cols"/> and ne1 = <see cref="Rows"/> is <see cref="Rows"/> rows of
/// <see cref="GgmlTypeInfo.RowSize"/> bytes. The memory must outlive every use of the view.
/// </summary>
internal readonly unsafe struct WeightMatrix
{
    /// <summary>Creates a view and validates its shape against the type and the byte length.</summary>
    /// <exception cref="NotSupportedException">The kernels do not support <paramref name="type"/>.</exception>
    /// <exception cref="ArgumentException">A bad shape, a null pointer, or fewer bytes than the shape needs.</exception>
    public WeightMatrix(GgmlType type, int rows, int cols, byte* data, long byteLength)
    {
        Dequantizer.EnsureSupported(type);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if (cols % GgmlTypeInfo.BlockSize(type) != 0)
        {
            throw QuantizationThrow.NotWholeBlocks(type, cols, nameof(cols));
        }

        if (data == null)
        {
            throw new ArgumentNullException(nameof(data));
        }

        long rowBytes = GgmlTypeInfo.RowSize(type, cols);
        if (byteLength < rowBytes * rows)
        {
            throw new ArgumentException($"A {rows}×{cols} {type} matrix needs {rowBytes * rows} bytes; {byteLength} given.", nameof(byteLength));
        }

        Type = type;
        Rows = rows;
        Cols = cols;
        Data = data;
        RowBytes = rowBytes;
    }

    /// <summary>
    /// A view of a GGUF tensor as a matrix: ne0 columns, and every further dimension folded into rows. Valid until
    /// <paramref name="file"/> is disposed.
    /// </summary>
    /// <exception cref="NotSupportedException">The kernels do not support the tensor's type.</exception>
    /// <exception cref="ArgumentException">The tensor does not belong to the file or is too large for int dimensions.</exception>
    public static WeightMatrix FromTensor(GgufFile file, GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(tensor);
        Dequantizer.EnsureSupported(tensor.Type);
        if (tensor.Columns > int.MaxValue || tensor.Rows > int.MaxValue)
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' has more than {int.MaxValue} rows or columns.", nameof(tensor));
        }

        return new WeightMatrix(tensor.Type, (int)tensor.Rows, (int)tensor.Columns, file.GetTensorPointer(tensor), tensor.ByteSize);
    }

    /// <summary>The element type.</summary>
    public GgmlType Type { get; }

    /// <summary>Output dimension (ggml ne1).</summary>
    public int Rows { get; }

    /// <summary>Input dimension (ggml ne0).</summary>
    public int Cols { get; }

    /// <summary>The first byte of row 0.</summary>
    public byte* Data { get; }

    /// <summary>Bytes of one row.</summary>
    public long RowBytes { get; }

    /// <summary>The first byte of <paramref name="row"/> (not range-checked).</summary>
    public byte* Row(int row) => Data + (row * RowBytes);
}
