using Tq.Core.Cache;

namespace Tq.Extensions.AI;

/// <summary>A snapshot of a <see cref="TurboQuantEngine"/>'s sessions and KV-cache memory.</summary>
/// <param name="IsLoaded">Whether the model is loaded (every other figure is 0 when not).</param>
/// <param name="LiveSessions">Sessions alive: busy ones plus idle ones kept for prefix reuse.</param>
/// <param name="BusySessions">Sessions serving a request now.</param>
/// <param name="MaxSessions">The most sessions alive at once (from <c>MaxConcurrentSessions</c> and <c>MaxKvCacheBytes</c>).</param>
/// <param name="KvCacheBytes">Bytes the live sessions' KV caches hold now.</param>
/// <param name="KvCacheBytesPerToken">KV-cache bytes per token of the cache kind in use (all layers).</param>
/// <param name="KvCacheKind">The cache kind of the sessions.</param>
/// <param name="F16KvCacheBytesPerToken">What an FP16 cache needs per token, for comparison.</param>
/// <param name="ContextLength">Tokens one session holds.</param>
public sealed record TurboQuantEngineStatistics(
    bool IsLoaded,
    int LiveSessions,
    int BusySessions,
    int MaxSessions,
    long KvCacheBytes,
    long KvCacheBytesPerToken,
    KvCacheKind KvCacheKind,
    long F16KvCacheBytesPerToken,
    int ContextLength);
