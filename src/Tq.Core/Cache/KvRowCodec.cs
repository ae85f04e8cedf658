namespace Tq.Core.Cache;

/// <summary>
/// How a compressed cache encodes one key or value row and computes attention straight from the encoded rows:
/// a query is prepared once per head (e.g. rotated), scored against packed rows, and weighted value rows are summed
/// in the codec's own domain and finished once per head (e.g. inverse-rotated).
/// </summary>
/// <remarks>Rows are stored as <see cref="CodeBytes"/> bytes plus <see cref="NormsPerRow"/> FP16 norms (0, 1 or 2).</remarks>
internal abstract class KvRowCodec
{
    /// <summary>Values per row.</summary>
    public abstract int Dimension { get; }

    /// <summary>Bytes of codes per row.</summary>
    public abstract int CodeBytes { get; }

    /// <summary>FP16 norms per row: 0 (none), 1 (norm) or 2 (norm and residual norm).</summary>
    public abstract int NormsPerRow { get; }

    /// <summary>Floats of a prepared query and of a value accumulator.</summary>
    public abstract int PreparedLength { get; }

    /// <summary>Bytes per row, norms included.</summary>
    public int RowBytes => CodeBytes + (NormsPerRow * sizeof(ushort));

    /// <summary>A short name of the encoding (for tables).</summary>
    public abstract string Name { get; }

    /// <summary>Encodes <c>codes.Length / CodeBytes</c> rows.</summary>
    public abstract void Encode(ReadOnlySpan<float> rows, Span<byte> codes, Span<Half> norms, Span<Half> residualNorms);

    /// <summary>Prepares a query for <see cref="Score"/>.</summary>
    public abstract void PrepareQuery(ReadOnlySpan<float> query, Span<float> prepared);

    /// <summary>scores[r] = ⟨query, row r⟩ for <c>scores.Length</c> rows.</summary>
    public abstract void Score(ReadOnlySpan<float> prepared, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, ReadOnlySpan<Half> residualNorms, Span<float> scores);

    /// <summary>
    /// <see cref="Score"/> for G prepared queries over the same rows (the query heads of one KV head):
    /// scores[g·n + r]. The default scores query by query; codecs that can share the unpacking override it.
    /// </summary>
    public virtual void ScoreGroup(ReadOnlySpan<float> preparedQueries, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, ReadOnlySpan<Half> residualNorms, Span<float> scores)
    {
        int rows = codes.Length / CodeBytes, groups = preparedQueries.Length / PreparedLength;
        for (int g = 0; g < groups; g++)
        {
            Score(preparedQueries.Slice(g * PreparedLength, PreparedLength), codes, norms, residualNorms, scores.Slice(g * rows, rows));
        }
    }

    /// <summary>accumulator += Σ weights[r]·row r, in the prepared domain, for <c>weights.Length</c> rows.</summary>
    public abstract void Accumulate(ReadOnlySpan<float> weights, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, Span<float> accumulator);

    /// <summary>Turns an accumulator into a row in the natural domain (output = finished accumulator).</summary>
    public abstract void Finish(ReadOnlySpan<float> accumulator, Span<float> output);

    /// <summary>Creates the codec for <paramref name="bits"/> (8 means Q8_0).</summary>
    public static KvRowCodec Create(int dimension, double bits, bool qjl, ulong seed, bool? normCorrection = null) =>
        bits == KvCacheOptions.Q8Bits ? new Q8RowCodec(dimension)
        : qjl ? new TurboQuantQjlRowCodec(dimension, (int)bits, seed)
        : new TurboQuantRowCodec(dimension, bits, seed, normCorrection);
}
