using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Tq.Extensions.AI;

/// <summary>
/// Engine-level telemetry under the name <see cref="TurboQuantChatClient.TelemetrySourceName"/> (a <see cref="Meter"/>
/// and an <see cref="ActivitySource"/>), next to what M.E.AI's <c>UseOpenTelemetry()</c> records for the chat call.
/// </summary>
internal static class TurboQuantTelemetry
{
    public static readonly ActivitySource Source = new(TurboQuantChatClient.TelemetrySourceName, "0.1.0");

    public static readonly Meter Meter = new(TurboQuantChatClient.TelemetrySourceName, "0.1.0");

    /// <summary>Tokens processed, tagged <c>tq.token.type</c> = input, cached_input or output.</summary>
    public static readonly Counter<long> Tokens = Meter.CreateCounter<long>("tq.tokens", "{token}", "Tokens prefilled, reused from the KV cache and generated.");

    /// <summary>Seconds from the request to the first generated token (queueing and prefill included).</summary>
    public static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram<double>("tq.time_to_first_token", "s", "Time from the request to the first generated token.");

    /// <summary>Decode speed of a response.</summary>
    public static readonly Histogram<double> DecodeTokensPerSecond = Meter.CreateHistogram<double>("tq.decode.tokens_per_second", "{token}/s", "Generated tokens per second after the first.");

    /// <summary>Prefill speed of a response.</summary>
    public static readonly Histogram<double> PrefillTokensPerSecond = Meter.CreateHistogram<double>("tq.prefill.tokens_per_second", "{token}/s", "Prompt tokens evaluated per second.");

    private static readonly ConcurrentDictionary<SessionPool, byte> s_pools = new();

    /// <summary>Bytes held by live sessions' KV caches (all engines of the process), observed when collected.</summary>
    public static readonly ObservableGauge<long> KvCacheBytes = Meter.CreateObservableGauge(
        "tq.kv_cache.bytes",
        static () => s_pools.Keys.Sum(p => p.Snapshot().Bytes),
        "By",
        "Bytes held by the KV caches of live sessions.");

    /// <summary>Seconds a request waited for a free session.</summary>
    public static readonly Histogram<double> SessionWait = Meter.CreateHistogram<double>("tq.session.wait", "s", "Time a request waited for a free session.");

    public static void Register(SessionPool pool) => s_pools.TryAdd(pool, 0);

    public static void Unregister(SessionPool pool) => s_pools.TryRemove(pool, out _);
}
