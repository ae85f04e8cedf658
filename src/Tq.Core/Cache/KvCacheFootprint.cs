namespace Tq.Core.Cache;

/// <summary>The exact memory of a KV cache: bytes that grow with every token, and bytes that do not.</summary>
/// <param name="BytesPerToken">Bytes of one token past the FP16 sinks (all layers, keys and values).</param>
/// <param name="FixedBytes">Bytes independent of the context: FP16 sinks, the FP16 recent ring, tables.</param>
/// <param name="SinkTokens">Tokens held by the fixed FP16 sink rows instead of codes.</param>
/// <param name="F16BytesPerToken">What one token costs in the FP16 cache, for ratios.</param>
internal readonly record struct KvCacheFootprint(long BytesPerToken, long FixedBytes, int SinkTokens, long F16BytesPerToken)
{
    /// <summary>Bytes of a cache allocated for <paramref name="tokens"/> tokens.</summary>
    public long BytesFor(int tokens) => FixedBytes + (Math.Max(0, tokens - Math.Min(SinkTokens, tokens)) * BytesPerToken);

    /// <summary>FP16 bytes over these bytes for <paramref name="tokens"/> tokens.</summary>
    public double CompressionRatio(int tokens) => (double)(F16BytesPerToken * tokens) / BytesFor(tokens);
}
