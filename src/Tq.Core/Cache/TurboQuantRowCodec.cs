using Tq.Core.Quantization;

namespace Tq.Core.Cache;

/// <summary>
/// TurboQuant rows (the paper's TurboQuant-MSE, the default kind): rotation, Lloyd-Max codes, one FP16 norm (see
/// <see cref="TurboQuantMseQuantizer"/>).
/// </summary>
internal sealed class TurboQuantRowCodec : KvRowCodec
{
    private readonly TurboQuantMseQuantizer _q;

    public TurboQuantRowCodec(int dimension, double bits, ulong seed, bool? normCorrection = null) => _q = new TurboQuantMseQuantizer(dimension, bits, seed, normCorrection);

    public override int Dimension => _q.Dimension;

    public override int CodeBytes => _q.CodeBytesPerVector;

    public override int NormsPerRow => 1;

    public override int PreparedLength => _q.PreparedQueryLength;

    public override string Name => $"TQ{_q.Bits}";

    public override void Encode(ReadOnlySpan<float> rows, Span<byte> codes, Span<Half> norms, Span<Half> residualNorms) => _q.Encode(rows, codes, norms);

    public override void PrepareQuery(ReadOnlySpan<float> query, Span<float> prepared) => _q.PrepareQuery(query, prepared);

    public override void Score(ReadOnlySpan<float> prepared, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, ReadOnlySpan<Half> residualNorms, Span<float> scores) =>
        _q.Score(prepared, codes, norms, scores);

    public override void ScoreGroup(ReadOnlySpan<float> preparedQueries, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, ReadOnlySpan<Half> residualNorms, Span<float> scores) =>
        _q.ScoreGroup(preparedQueries, codes, norms, scores);

    public override void Accumulate(ReadOnlySpan<float> weights, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, Span<float> accumulator) =>
        _q.AccumulateValues(weights, codes, norms, accumulator);

    public override void Finish(ReadOnlySpan<float> accumulator, Span<float> output) => _q.FinishValues(accumulator, output);
}
