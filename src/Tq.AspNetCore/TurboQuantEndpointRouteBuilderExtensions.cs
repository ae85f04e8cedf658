using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tq.AspNetCore;
using Tq.Extensions.AI;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the endpoints of a TurboQuant server: all at once, or health and metrics of the registered <see cref="TurboQuantEngine"/> one by one.</summary>
public static class TurboQuantEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps everything a TurboQuant server answers: the OpenAI-compatible endpoints
    /// (<see cref="OpenAIEndpointRouteBuilderExtensions.MapOpenAIChatCompletions"/>: <c>POST /v1/chat/completions</c>,
    /// <c>GET /v1/models</c>, <c>GET /v1/models/{id}</c>), <c>GET /health</c> (<see cref="MapTurboQuantHealth"/>) and
    /// <c>GET /metrics</c> (<see cref="MapTurboQuantMetrics"/>).
    /// </summary>
    /// <param name="endpoints">The application or a route group.</param>
    /// <param name="configure">Sets the OpenAI endpoints' route prefix or the key of the chat client; optional.</param>
    /// <returns>The convention builder of all the mapped endpoints (to add authorization, rate limiting, ...).</returns>
    public static IEndpointConventionBuilder MapTurboQuantEndpoints(this IEndpointRouteBuilder endpoints, Action<OpenAIEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        RouteGroupBuilder group = endpoints.MapGroup(string.Empty);
        group.MapOpenAIChatCompletions(configure);
        group.MapTurboQuantHealth();
        group.MapTurboQuantMetrics();
        return group;
    }

    /// <summary>
    /// Maps <c>GET {pattern}</c>: 200 <c>{"status":"ok",...}</c> once the model is loaded, 503 <c>{"status":"loading"}</c>
    /// before, with the model id, sessions and queue length.
    /// </summary>
    /// <param name="endpoints">The application or a route group.</param>
    /// <param name="pattern">The route (default <c>/health</c>).</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapTurboQuantHealth(this IEndpointRouteBuilder endpoints, string pattern = "/health")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        return endpoints.MapGet(pattern, (TurboQuantEngine engine) =>
        {
            TurboQuantEngineStatistics s = engine.GetStatistics();
            var body = new System.Text.Json.Nodes.JsonObject
            {
                ["status"] = s.IsLoaded ? "ok" : "loading",
                ["model"] = engine.ModelId,
                ["sessions_busy"] = s.BusySessions,
                ["sessions_max"] = s.MaxSessions,
                ["requests_waiting"] = s.WaitingRequests,
            };
            return Results.Text(body.ToJsonString(), "application/json", Encoding.UTF8, s.IsLoaded ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
    }

    /// <summary>
    /// Maps <c>GET {pattern}</c>: the engine's figures in Prometheus' text format (version 0.0.4): requests waiting
    /// (queue length), sessions, KV-cache bytes, token counters (rate them for tokens/s) and the last decode speed.
    /// </summary>
    /// <param name="endpoints">The application or a route group.</param>
    /// <param name="pattern">The route (default <c>/metrics</c>).</param>
    /// <returns>The endpoint's convention builder.</returns>
    public static IEndpointConventionBuilder MapTurboQuantMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        return endpoints.MapGet(pattern, (TurboQuantEngine engine) => Results.Text(Prometheus(engine), "text/plain; version=0.0.4; charset=utf-8"));
    }

    internal static string Prometheus(TurboQuantEngine engine)
    {
        TurboQuantEngineStatistics s = engine.GetStatistics();
        var text = new StringBuilder();
        string model = engine.ModelId.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
        Metric("tq_model_loaded", "gauge", "1 once the model is loaded.", s.IsLoaded ? 1 : 0);
        Metric("tq_requests_waiting", "gauge", "Requests waiting for a free session (queue length).", s.WaitingRequests);
        Metric("tq_sessions_busy", "gauge", "Sessions serving a request.", s.BusySessions);
        Metric("tq_sessions_live", "gauge", "Sessions alive (busy and idle).", s.LiveSessions);
        Metric("tq_sessions_max", "gauge", "The most sessions alive at once.", s.MaxSessions);
        Metric("tq_kv_cache_bytes", "gauge", "Bytes held by the KV caches of live sessions.", s.KvCacheBytes);
        Metric("tq_kv_cache_bytes_per_token", "gauge", "KV-cache bytes per token of the cache kind in use.", s.KvCacheBytesPerToken);
        Metric("tq_requests_total", "counter", "Generations ended (finished, cancelled or failed).", s.CompletedRequests);
        Metric("tq_prompt_tokens_total", "counter", "Prompt tokens of the ended generations.", s.PromptTokens);
        Metric("tq_prompt_tokens_cached_total", "counter", "Prompt tokens reused from a KV cache.", s.CachedPromptTokens);
        Metric("tq_generated_tokens_total", "counter", "Tokens generated.", s.GeneratedTokens);
        Metric("tq_decode_tokens_per_second", "gauge", "Decode speed of the last generation.", s.LastDecodeTokensPerSecond);
        Metric("tq_forward_passes_total", "counter", "Forward passes of the scheduler (each batches the concurrent requests).", s.ForwardPasses);
        Metric("tq_forward_pass_tokens_total", "counter", "Tokens evaluated by those passes (over tq_forward_passes_total: the mean batch).", s.ForwardPassTokens);
        return text.ToString();

        void Metric(string name, string type, string help, double value)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            text.Append(name).Append("{model=\"").Append(model).Append("\"} ").Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}
