using Tq.Core.Quantization;

namespace Tq.Core.Cache;

/// <summary>
/// TurboQuant key rows with a QJL residual (the paper's TurboQuant-prod): b − 1 code bits plus the sign of a random
/// projection of the residual per coordinate, for unbiased inner products; keys only (<see cref="KvCacheOptions.KeyResidualQjl"/>).
/// </summary>
internal sealed class TurboQuantQjlRowCodec : KvRowCodec
{
    private readonly TurboQuantProdQuantizer _q;

    public TurboQuantQjlRowCodec(int dimension, int bits, ulong seed) => _q = new TurboQuantProdQuantizer(dimension, bits, seed);

    public override int Dimension => _q.Dimension;

    public override int CodeBytes => _q.CodeBytesPerVector;

    public override int NormsPerRow => 2;

    public override int PreparedLength => _q.PreparedQueryLength;

    public override string Name => $"TQ{_q.Bits}+QJL";

    public override void Encode(ReadOnlySpan<float> rows, Span<byte> codes, Span<Half> norms, Span<Half> residualNorms) =>
        _q.Encode(rows, codes, norms, residualNorms);

    public override void PrepareQuery(ReadOnlySpan<float> query, Span<float> prepared) => _q.PrepareQuery(query, prepared);

    public override void Score(ReadOnlySpan<float> prepared, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, ReadOnlySpan<Half> residualNorms, Span<float> scores) =>
        _q.Score(prepared, codes, norms, residualNorms, scores);

    public override void Accumulate(ReadOnlySpan<float> weights, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, Span<float> accumulator) =>
        throw new NotSupportedException("The QJL residual is for keys only; values use the MSE quantizer.");

    public override void Finish(ReadOnlySpan<float> accumulator, Span<float> output) =>
        throw new NotSupportedException("The QJL residual is for keys only; values use the MSE quantizer.");
}
