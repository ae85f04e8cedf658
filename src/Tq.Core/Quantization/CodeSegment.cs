using Tq.Core.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// A run of consecutive rotated coordinates quantized at one bit width: where its codes sit in a packed row and where
/// its part of a prepared query/accumulator sits. Segments start on byte boundaries.
/// </summary>
internal sealed class CodeSegment
{
    public CodeSegment(int start, int count, int bits, int byteOffset, int preparedOffset, ReadOnlySpan<float> values, ReadOnlySpan<float> boundaries, SimdPath path)
    {
        Start = start;
        Count = count;
        Bits = bits;
        ByteOffset = byteOffset;
        PreparedOffset = preparedOffset;
        ByteLength = BitPacking.PackedLength(count, bits);
        PreparedLength = CodeKernels.PreparedLength(count, bits, path);
        Values = values.ToArray();
        Boundaries = boundaries.ToArray();
        Table16 = new float[16];
        CodeKernels.FillTable(values, Table16);
        Squares16 = new float[16];
        CodeKernels.FillTable(Array.ConvertAll(Values, v => v * v), Squares16);
        BoundaryTable16 = CodeKernels.BoundaryTable(boundaries);
    }

    /// <summary>First coordinate (rotated domain) of the segment.</summary>
    public int Start { get; }

    /// <summary>Number of coordinates.</summary>
    public int Count { get; }

    /// <summary>Bits per code.</summary>
    public int Bits { get; }

    /// <summary>Offset of the segment's codes in a packed row.</summary>
    public int ByteOffset { get; }

    /// <summary>Bytes of packed codes.</summary>
    public int ByteLength { get; }

    /// <summary>Offset of the segment in a prepared query/accumulator.</summary>
    public int PreparedOffset { get; }

    /// <summary>Floats of the segment in a prepared query/accumulator (padded to whole SIMD chunks).</summary>
    public int PreparedLength { get; }

    /// <summary>Reconstruction value per code.</summary>
    public float[] Values { get; }

    /// <summary>Squares of <see cref="Values"/>, replicated to 16 entries like <see cref="Table16"/>.</summary>
    public float[] Squares16 { get; }

    /// <summary>Boundaries padded with +∞ to 16 entries, for the 512-bit binary search.</summary>
    public float[] BoundaryTable16 { get; }

    /// <summary>Sorted decision boundaries (empty for a sign segment encoded by the caller).</summary>
    public float[] Boundaries { get; }

    /// <summary>Replicated 16-entry lookup table for the kernels.</summary>
    public float[] Table16 { get; }
}
