using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tq.Extensions.AI;
using Tq.Testing;

namespace Tq.AspNetCore.Tests;

/// <summary>
/// The endpoints mapped on a Kestrel host on a free loopback port over the real tq-chat-5m (q8_0, FP16 cache,
/// 512-token context, 8 output tokens unless asked), with a probe between the endpoint and the engine and the logs recorded.
/// </summary>
public sealed class EndpointServer : IAsyncLifetime
{
    public const string ModelId = "tq-chat-5m-q8_0";

    private WebApplication? _app;

    public HttpClient Http { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    public ProbeChatClient Probe { get; private set; } = null!;

    public RecordingLoggerProvider Logs { get; } = new();

    public TurboQuantEngine Engine => _app!.Services.GetRequiredService<TurboQuantEngine>();

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(Logs);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Services.AddTurboQuantChat(o =>
        {
            o.ModelPath = TestPaths.Model(ModelId + ".gguf");
            o.Threads = 1;
            o.ContextSize = 512;
            o.BitsK = 16;
            o.BitsV = 16;
            o.MaxOutputTokens = 8;
            o.MaxConcurrentSessions = 2;
            o.EagerLoad = true;
        }).Use(inner => Probe = new ProbeChatClient(inner));
        _app = builder.Build();
        _app.MapTurboQuantEndpoints();
        await _app.StartAsync();
        Address = new Uri(_app.Urls.First());
        Http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        _ = _app.Services.GetRequiredService<IChatClient>(); // builds the pipeline, so Probe is set
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    /// <summary>Sits between the endpoint and the engine: optionally slows the consumer, and records cancellation.</summary>
    public sealed class ProbeChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public TimeSpan DelayPerUpdate { get; set; }

        public int UpdatesAfterCancellation { get; private set; }

        public bool SawCancellation { get; private set; }

        public void Reset()
        {
            DelayPerUpdate = TimeSpan.Zero;
            UpdatesAfterCancellation = 0;
            SawCancellation = false;
        }

        public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            IAsyncEnumerator<ChatResponseUpdate> updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            await using (updates.ConfigureAwait(false))
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await updates.MoveNextAsync();
                    }
                    catch (OperationCanceledException)
                    {
                        SawCancellation = true;
                        throw;
                    }

                    if (!more)
                    {
                        yield break;
                    }

                    if (cancellationToken.IsCancellationRequested)
                    {
                        UpdatesAfterCancellation++;
                    }

                    yield return updates.Current;
                    if (DelayPerUpdate > TimeSpan.Zero)
                    {
                        await Task.Delay(DelayPerUpdate, CancellationToken.None);
                    }
                }
            }
        }
    }

    /// <summary>Keeps every log entry: level, category, whether it carried an exception.</summary>
    public sealed class RecordingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Category, string Message, Exception? Exception)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Entries.Enqueue((logLevel, category, formatter(state, exception), exception));
        }
    }
}
