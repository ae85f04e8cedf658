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
/// <param name="WaitingRequests">Requests waiting for a free session (the queue length).</param>
/// <param name="CompletedRequests">Generations ended since the engine was created (finished, cancelled or failed).</param>
/// <param name="PromptTokens">Prompt tokens of those generations (cached ones included).</param>
/// <param name="CachedPromptTokens">Prompt tokens reused from a session's KV cache instead of evaluated.</param>
/// <param name="GeneratedTokens">Tokens generated.</param>
/// <param name="LastDecodeTokensPerSecond">The decode speed of the last generation of more than one token.</param>
/// <param name="ForwardPasses">Forward passes the model's scheduler ran (each batches the concurrent requests' tokens).</param>
/// <param name="ForwardPassTokens">Tokens those passes evaluated; divided by <paramref name="ForwardPasses"/>, the mean batch.</param>
public sealed record TurboQuantEngineStatistics(
    bool IsLoaded,
    int LiveSessions,
    int BusySessions,
    int MaxSessions,
    long KvCacheBytes,
    long KvCacheBytesPerToken,
    KvCacheKind KvCacheKind,
    long F16KvCacheBytesPerToken,
    int ContextLength,
    int WaitingRequests = 0,
    long CompletedRequests = 0,
    long PromptTokens = 0,
    long CachedPromptTokens = 0,
    long GeneratedTokens = 0,
    double LastDecodeTokensPerSecond = 0,
    long ForwardPasses = 0,
    long ForwardPassTokens = 0);
