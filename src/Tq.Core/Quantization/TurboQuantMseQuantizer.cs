using System.Numerics.Tensors;
using Tq.Core.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// TurboQuant-MSE (PolarQuant style) quantizer for d-dimensional vectors: the norm is kept in FP16, the unit vector is
/// randomly rotated and every rotated coordinate gets a Lloyd-Max code, densely packed. Scores against a query and
/// weighted sums of rows are computed directly from the packed codes.
/// </summary>
/// <remarks>
/// <para>
/// Fractional rates (1.5, 2.5, 3.5 bits) quantize the first ⌊d/2⌋ rotated coordinates one bit higher than the rest,
/// each part with its own codebook (after the rotation every coordinate has the same distribution, so which half is
/// irrelevant; one rotation and one norm serve both parts).
/// </para>
/// <para>
/// With <see cref="NormCorrection"/> the stored norm is ‖x‖/‖ŷ‖, ŷ the dequantized rotated unit vector, so a
/// reconstruction has exactly the input's norm. Storage per vector: <see cref="CodeBytesPerVector"/> bytes of codes plus
/// one FP16 norm. Instances are immutable and thread-safe; the batch methods allocate nothing.
/// </para>
/// </remarks>
internal sealed class TurboQuantMseQuantizer
{
    /// <summary>The seed used when none is given.</summary>
    public const ulong DefaultSeed = 0x5475_7262_6F51_7561UL;

    /// <summary>The largest supported dimension.</summary>
    public const int MaxDimension = 1024;

    private const int Block = 256;

    private readonly RandomRotation _rotation;
    private readonly CodeSegment[] _segments;
    private readonly SimdPath _path;

    /// <summary>Creates a quantizer.</summary>
    /// <param name="dimension">Vector dimension d, 2 to <see cref="MaxDimension"/>.</param>
    /// <param name="bits">Bits per coordinate: 1, 1.5, 2, 2.5, 3, 3.5 or 4.</param>
    /// <param name="seed">Seed of the random rotation; equal seeds give identical codes on every machine.</param>
    /// <param name="normCorrection">
    /// Store ‖x‖/‖ŷ‖ instead of ‖x‖ (see remarks). Null picks the measured better choice: on from 3 bits, where it lowers
    /// NMSE, inner-product error and bias; off below, where it lowers only the bias (see docs/quantizer.md).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">Unsupported dimension or bit width.</exception>
    public TurboQuantMseQuantizer(int dimension, double bits, ulong seed = DefaultSeed, bool? normCorrection = null)
        : this(dimension, bits, seed, normCorrection, SimdPath.Auto)
    {
    }

    internal TurboQuantMseQuantizer(int dimension, double bits, ulong seed, bool? normCorrection, SimdPath path)
    {
        ValidateDimension(dimension);
        (int low, int high) = ParseBits(bits);
        int highChannels = high > low ? dimension / 2 : 0;
        _path = SimdPaths.Resolve(path);
        Dimension = dimension;
        Bits = bits;
        Seed = seed;
        NormCorrection = normCorrection ?? low >= 3;
        LowBits = low;
        HighBitChannels = highChannels;
        _rotation = RandomRotation.Create(dimension, seed, _path);

        var segments = new List<CodeSegment>(2);
        int byteOffset = 0, preparedOffset = 0;
        if (highChannels > 0)
        {
            var book = LloydMaxCodebook.Get(dimension, high);
            segments.Add(new CodeSegment(0, highChannels, high, 0, 0, book.CentroidsSingle, book.BoundariesSingle, _path));
            byteOffset = segments[0].ByteLength;
            preparedOffset = segments[0].PreparedLength;
        }

        var lowBook = LloydMaxCodebook.Get(dimension, low);
        segments.Add(new CodeSegment(highChannels, dimension - highChannels, low, byteOffset, preparedOffset, lowBook.CentroidsSingle, lowBook.BoundariesSingle, _path));
        _segments = [.. segments];
        CodeBytesPerVector = byteOffset + segments[^1].ByteLength;
        PreparedQueryLength = preparedOffset + segments[^1].PreparedLength;
    }

    /// <summary>Vector dimension d.</summary>
    public int Dimension { get; }

    /// <summary>Bits per coordinate (may be fractional).</summary>
    public double Bits { get; }

    /// <summary>The rotation seed.</summary>
    public ulong Seed { get; }

    /// <summary>Whether stored norms are corrected by the norm of the dequantized unit vector.</summary>
    public bool NormCorrection { get; }

    /// <summary>Bits of the ordinary channels (⌊<see cref="Bits"/>⌋).</summary>
    public int LowBits { get; }

    /// <summary>How many rotated channels are quantized with one extra bit (0 for integral rates).</summary>
    public int HighBitChannels { get; }

    /// <summary>Bytes of packed codes per vector (the FP16 norm is stored separately).</summary>
    public int CodeBytesPerVector { get; }

    /// <summary>Exact storage in bits per value, the FP16 norm included.</summary>
    public double BitsPerValue => ((CodeBytesPerVector * 8) + 16.0) / Dimension;

    /// <summary>Length of a prepared query and of a value accumulator.</summary>
    public int PreparedQueryLength { get; }

    internal RandomRotation Rotation => _rotation;

    internal SimdPath Path => _path;

    /// <summary>Encodes <c>vectors.Length / Dimension</c> vectors.</summary>
    /// <param name="vectors">Row-major vectors, a multiple of <see cref="Dimension"/> floats, all finite.</param>
    /// <param name="codes">Receives <see cref="CodeBytesPerVector"/> bytes per vector.</param>
    /// <param name="norms">Receives one FP16 norm per vector.</param>
    /// <exception cref="ArgumentException">Lengths disagree, or a value is NaN/∞, or a norm exceeds the FP16 range.</exception>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> codes, Span<Half> norms)
    {
        int count = CheckRows(vectors.Length, nameof(vectors));
        QuantizerMath.CheckLength(codes.Length, count * CodeBytesPerVector, nameof(codes));
        QuantizerMath.CheckLength(norms.Length, count, nameof(norms));
        int d = Dimension;
        Span<float> unit = stackalloc float[d];
        Span<byte> raw = stackalloc byte[d];
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> x = vectors.Slice(r * d, d);
            float norm = QuantizerMath.Norm(x, r, nameof(vectors));
            if (norm > 0)
            {
                TensorPrimitives.Multiply(x, 1f / norm, unit);
                _rotation.Rotate(unit, unit);
            }
            else
            {
                unit.Clear();
            }

            Span<byte> row = codes.Slice(r * CodeBytesPerVector, CodeBytesPerVector);
            float squares = 0;
            foreach (CodeSegment s in _segments)
            {
                Span<byte> segmentCodes = raw.Slice(s.Start, s.Count);
                squares += CodeKernels.Quantize(unit.Slice(s.Start, s.Count), s.Boundaries, s.BoundaryTable16,
                    NormCorrection ? s.Squares16 : default, segmentCodes, _path);
                BitPacking.Pack(segmentCodes, s.Bits, row.Slice(s.ByteOffset, s.ByteLength), _path);
            }

            float stored = NormCorrection && norm > 0 ? norm / MathF.Sqrt(squares) : norm;
            norms[r] = QuantizerMath.ToHalf(stored, r, nameof(vectors));
        }
    }

    /// <summary>Reconstructs vectors from codes and norms.</summary>
    public void Decode(ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, Span<float> vectors)
    {
        int count = norms.Length;
        QuantizerMath.CheckLength(codes.Length, count * CodeBytesPerVector, nameof(codes));
        QuantizerMath.CheckLength(vectors.Length, count * Dimension, nameof(vectors));
        int d = Dimension;
        Span<byte> raw = stackalloc byte[d];
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<byte> row = codes.Slice(r * CodeBytesPerVector, CodeBytesPerVector);
            Span<float> y = vectors.Slice(r * d, d);
            float norm = (float)norms[r];
            foreach (CodeSegment s in _segments)
            {
                Span<byte> segmentCodes = raw.Slice(s.Start, s.Count);
                BitPacking.Unpack(row.Slice(s.ByteOffset, s.ByteLength), s.Bits, segmentCodes, _path);
                for (int i = 0; i < s.Count; i++)
                {
                    y[s.Start + i] = s.Values[segmentCodes[i]] * norm;
                }
            }

            _rotation.InverseRotate(y, y);
        }
    }

    /// <summary>Rotates a query once into the layout <see cref="Score"/> reads.</summary>
    /// <param name="query">The query, <see cref="Dimension"/> finite floats.</param>
    /// <param name="prepared">Receives <see cref="PreparedQueryLength"/> floats.</param>
    public void PrepareQuery(ReadOnlySpan<float> query, Span<float> prepared)
    {
        Span<float> rotated = stackalloc float[Dimension];
        QuantizerMath.RotateQuery(_rotation, query, prepared, PreparedQueryLength, rotated);
        foreach (CodeSegment s in _segments)
        {
            CodeKernels.Arrange(rotated.Slice(s.Start, s.Count), s.Bits, _path, prepared.Slice(s.PreparedOffset, s.PreparedLength));
        }
    }

    /// <summary>
    /// scores[r] = ⟨query, x̂_r⟩ = norm_r · Σᵢ c[code_{r,i}]·(R q)ᵢ for every encoded row, without dequantizing.
    /// </summary>
    /// <param name="preparedQuery">From <see cref="PrepareQuery"/>.</param>
    /// <param name="codes">Packed rows, <see cref="CodeBytesPerVector"/> bytes each.</param>
    /// <param name="norms">One norm per row.</param>
    /// <param name="scores">Receives one score per row.</param>
    public void Score(ReadOnlySpan<float> preparedQuery, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, Span<float> scores)
    {
        int count = norms.Length;
        QuantizerMath.CheckLength(preparedQuery.Length, PreparedQueryLength, nameof(preparedQuery));
        QuantizerMath.CheckLength(codes.Length, count * CodeBytesPerVector, nameof(codes));
        QuantizerMath.CheckLength(scores.Length, count, nameof(scores));
        for (int i = 0; i < _segments.Length; i++)
        {
            CodeSegment s = _segments[i];
            CodeKernels.DotRows(codes, CodeBytesPerVector, s.ByteOffset, s.Count, s.Bits, s.Table16,
                preparedQuery.Slice(s.PreparedOffset, s.PreparedLength), scores, accumulate: i > 0, _path);
        }

        QuantizerMath.MultiplyByNorms(scores, norms);
    }

    /// <summary>
    /// <see cref="Score"/> for a group of queries over the same rows (the query heads sharing one KV head under
    /// grouped-query attention): each row is unpacked once for the whole group.
    /// </summary>
    /// <param name="preparedQueries">G prepared queries back to back, G·<see cref="PreparedQueryLength"/> floats.</param>
    /// <param name="codes">Packed rows.</param>
    /// <param name="norms">One norm per row (n rows).</param>
    /// <param name="scores">Receives G·n scores, query-major: scores[g·n + r].</param>
    public void ScoreGroup(ReadOnlySpan<float> preparedQueries, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, Span<float> scores)
    {
        int count = norms.Length;
        if (preparedQueries.Length == 0 || preparedQueries.Length % PreparedQueryLength != 0)
        {
            throw new ArgumentException($"Expected a positive multiple of {PreparedQueryLength} floats, got {preparedQueries.Length}.", nameof(preparedQueries));
        }

        int queries = preparedQueries.Length / PreparedQueryLength;
        QuantizerMath.CheckLength(codes.Length, count * CodeBytesPerVector, nameof(codes));
        QuantizerMath.CheckLength(scores.Length, queries * count, nameof(scores));
        for (int i = 0; i < _segments.Length; i++)
        {
            CodeSegment s = _segments[i];
            CodeKernels.DotRowsGroup(codes, CodeBytesPerVector, s.ByteOffset, s.Count, s.Bits, s.Table16,
                preparedQueries, PreparedQueryLength, s.PreparedOffset, queries, scores, accumulate: i > 0, _path);
        }

        for (int g = 0; g < queries; g++)
        {
            QuantizerMath.MultiplyByNorms(scores.Slice(g * count, count), norms);
        }
    }

    /// <summary>
    /// accumulator += Σ_r weights[r]·norm_r·ŷ_r in the rotated domain (ŷ_r the decoded rotated unit vector of row r);
    /// call <see cref="FinishValues"/> once after the last batch.
    /// </summary>
    /// <param name="weights">One weight per row (e.g. attention probabilities).</param>
    /// <param name="codes">Packed rows.</param>
    /// <param name="norms">One norm per row.</param>
    /// <param name="accumulator"><see cref="PreparedQueryLength"/> floats, zeroed by the caller before the first batch.</param>
    public void AccumulateValues(ReadOnlySpan<float> weights, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, Span<float> accumulator)
    {
        int count = norms.Length;
        QuantizerMath.CheckLength(weights.Length, count, nameof(weights));
        QuantizerMath.CheckLength(codes.Length, count * CodeBytesPerVector, nameof(codes));
        QuantizerMath.CheckLength(accumulator.Length, PreparedQueryLength, nameof(accumulator));
        Span<float> scaled = stackalloc float[Block];
        for (int start = 0; start < count; start += Block)
        {
            int n = Math.Min(Block, count - start);
            Span<float> w = scaled[..n];
            TensorPrimitives.ConvertToSingle(norms.Slice(start, n), w);
            TensorPrimitives.Multiply(w, weights.Slice(start, n), w);
            ReadOnlySpan<byte> rows = codes.Slice(start * CodeBytesPerVector, n * CodeBytesPerVector);
            foreach (CodeSegment s in _segments)
            {
                CodeKernels.AccumulateRows(rows, CodeBytesPerVector, s.ByteOffset, s.Count, s.Bits, s.Table16, w,
                    accumulator.Slice(s.PreparedOffset, s.PreparedLength), _path);
            }
        }
    }

    /// <summary>Turns an accumulator into the output vector (one inverse rotation).</summary>
    /// <param name="accumulator">From <see cref="AccumulateValues"/>.</param>
    /// <param name="output">Receives <see cref="Dimension"/> floats.</param>
    public void FinishValues(ReadOnlySpan<float> accumulator, Span<float> output)
    {
        QuantizerMath.CheckLength(accumulator.Length, PreparedQueryLength, nameof(accumulator));
        QuantizerMath.CheckLength(output.Length, Dimension, nameof(output));
        foreach (CodeSegment s in _segments)
        {
            CodeKernels.Unarrange(accumulator.Slice(s.PreparedOffset, s.PreparedLength), s.Bits, _path, output.Slice(s.Start, s.Count));
        }

        _rotation.InverseRotate(output, output);
    }

    internal static void ValidateDimension(int dimension)
    {
        if (dimension is < 2 or > MaxDimension)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"Dimension must be between 2 and {MaxDimension}.");
        }
    }

    private static (int Low, int High) ParseBits(double bits)
    {
        double twice = bits * 2;
        if (double.IsFinite(bits) && bits is >= 1 and <= 4 && twice == Math.Floor(twice))
        {
            int low = (int)Math.Floor(bits);
            return low == bits ? (low, low) : (low, low + 1);
        }

        throw new ArgumentOutOfRangeException(nameof(bits), bits, "Bits must be 1, 1.5, 2, 2.5, 3, 3.5 or 4.");
    }

    private int CheckRows(int length, string name)
    {
        if (length % Dimension != 0)
        {
            throw new ArgumentException($"Length {length} is not a multiple of the dimension {Dimension}.", name);
        }

        return length / Dimension;
    }
}
