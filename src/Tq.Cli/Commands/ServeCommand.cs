using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tq.Extensions.AI;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq serve -m model.gguf [--host 127.0.0.1 --port 8080 -c 4096 --bits-k 4 --bits-v 2 --sessions 4]</c>: the
/// OpenAI-compatible server (Tq.AspNetCore's <c>/v1/chat/completions</c> and <c>/v1/models</c>) with <c>/health</c>
/// and Prometheus <c>/metrics</c>, until Ctrl+C. The listening address is the one line on stdout; logs go to stderr.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var engine = EngineArguments.Create("Context window per session (default: the model's).", "Default most tokens per answer (a request's max_tokens overrides it).")
            .Add(new Option<int>("--sessions", "-np") { Description = "Concurrent sessions (requests beyond wait in a queue).", DefaultValueFactory = _ => 4 }, (o, v) => o.MaxConcurrentSessions = v)
            .Add(new Option<long>("--max-kv-bytes") { Description = "Bound on the KV-cache bytes of all sessions (0: none).", DefaultValueFactory = _ => 0 }, (o, v) => o.MaxKvCacheBytes = v)
            .Add(new Option<string?>("--model-id") { Description = "The model id clients send and /v1/models lists (default: the file name)." }, (o, v) => o.ModelId = v);
        var host = new Option<string>("--host") { Description = "The address to listen on (default: loopback only).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "The TCP port (0: any free port).", DefaultValueFactory = _ => 8080 };
        var command = CliOptions.Command("serve", "Serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models, /health, /metrics).", [.. engine.Options, host, port]);

        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(() => RunAsync(
            options =>
            {
                engine.Bind(parse, options);
                options.EagerLoad = true;
            },
            parse.GetValue(host)!,
            parse.GetValue(port),
            cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(Action<TurboQuantChatOptions> configure, string host, int port, CancellationToken cancellationToken)
    {
        if (port is < 0 or > 65535)
        {
            throw new ArgumentException($"--port must be between 0 and 65535; got {port}.");
        }

        if (string.IsNullOrWhiteSpace(host) || Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            throw new ArgumentException($"--host '{host}' is not a host name or IP address.");
        }

        // Checked here so a bad option is one line, not a host start-up failure.
        var options = new TurboQuantChatOptions();
        configure(options);
        var validation = new TurboQuantChatOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new ArgumentException(string.Join(" ", validation.Failures));
        }

        WebApplication app = Build(configure, host, port);
        await using (app.ConfigureAwait(false))
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            TurboQuantEngine engine = app.Services.GetRequiredService<TurboQuantEngine>();
            CliErrors.WarnIfBeyondTraining(options.ContextSize, engine.Model.TrainedContextLength);
            string address = app.Urls.FirstOrDefault() ?? $"http://{host}:{port}";
            TurboQuantEngineStatistics s = engine.GetStatistics();
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tq: serving {engine.ModelId} on {address} (POST /v1/chat/completions, GET /v1/models, /health, /metrics); context {s.ContextLength}, KV cache {s.KvCacheKind} {s.KvCacheBytesPerToken} bytes/token, {s.MaxSessions} sessions. Ctrl+C stops."));
            Console.Out.Flush();
            // Ctrl+C or SIGTERM is a normal stop. The host's lifetime takes the signals once it runs, so wait on its
            // stopping token as well as the command line's.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, app.Lifetime.ApplicationStopping);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>The server app: the engine, the OpenAI endpoints, health and metrics, logs on stderr.</summary>
    internal static WebApplication Build(Action<TurboQuantChatOptions> configure, string host, int port)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        string authority = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://{authority}:{port}"));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddTurboQuantChat(configure);
        WebApplication app = builder.Build();
        app.MapTurboQuantEndpoints();
        return app;
    }
}
