using Tq.Core.Cache;

namespace Tq.SemanticKernel;

/// <summary>The KV-cache memory a conversation takes on a TurboQuant engine, against an FP16 cache.</summary>
/// <param name="Tokens">Tokens of the rendered conversation (chat template and tool declarations included).</param>
/// <param name="ContextLength">Tokens one session holds.</param>
/// <param name="KvCacheKind">The engine's cache kind.</param>
/// <param name="KvCacheBytes">Bytes these tokens take in the engine's cache (tokens × its per-token size, all layers).</param>
/// <param name="F16KvCacheBytes">Bytes the same tokens would take in an FP16 cache.</param>
/// <param name="SessionKvCacheBytes">Bytes the engine's live sessions hold now (caches are allocated for the whole context).</param>
public sealed record TurboQuantKvCacheUsage(
    int Tokens,
    int ContextLength,
    KvCacheKind KvCacheKind,
    long KvCacheBytes,
    long F16KvCacheBytes,
    long SessionKvCacheBytes)
{
    /// <summary>The metadata key under which chat results carry this record.</summary>
    public const string MetadataKey = "tq.kv_cache";

    /// <summary>FP16 bytes over the engine's bytes for the same tokens (1 for an FP16 cache).</summary>
    public double CompressionRatio => KvCacheBytes == 0 ? 1 : (double)F16KvCacheBytes / KvCacheBytes;
}
