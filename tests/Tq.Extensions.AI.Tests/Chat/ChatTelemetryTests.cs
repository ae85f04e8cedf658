using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>The engine's activity, metrics and load log.</summary>
public sealed class ChatTelemetryTests
{
    [Fact]
    public async Task GetResponseAsync_RecordsActivityAndTokenMetrics()
    {
        var activities = new ConcurrentBag<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TurboQuantChatClient.TelemetrySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Add,
        };
        ActivitySource.AddActivityListener(activityListener);
        var tokens = new ConcurrentDictionary<string, long>();
        var instruments = new ConcurrentBag<string>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == TurboQuantChatClient.TelemetrySourceName)
                {
                    instruments.Add(instrument.Name);
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "tq.tokens")
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    tokens.AddOrUpdate((string)tag.Value!, value, (_, v) => v + value);
                }
            }
        });
        meterListener.Start();
        using TurboQuantChatClient client = ChatModels.CreateClient();

        ChatResponse response = await client.GetResponseAsync("Hello! Who are you?", new ChatOptions { Temperature = 0, MaxOutputTokens = 16 });
        meterListener.RecordObservableInstruments();

        // Other tests run in parallel and may add activities and tokens of their own.
        Assert.Contains(activities, a => a.OperationName == "tq.generate"
            && a.GetTagItem("gen_ai.usage.output_tokens") is long n && n == response.Usage!.OutputTokenCount
            && a.GetTagItem("gen_ai.usage.input_tokens") is long i && i == response.Usage.InputTokenCount
            && (string?)a.GetTagItem("gen_ai.request.model") == "tq-chat-5m-f16");
        Assert.True(tokens.GetValueOrDefault("output") >= response.Usage!.OutputTokenCount);
        Assert.Contains("tq.time_to_first_token", instruments);
        Assert.Contains("tq.kv_cache.bytes", instruments);
    }

    [Fact]
    public void Load_LogsProgressThroughTheLoggerFactory()
    {
        var provider = new CapturingLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(provider).SetMinimumLevel(LogLevel.Information));
        using var engine = new TurboQuantEngine(new TurboQuantChatOptions { ModelPath = TestPaths.Model(ChatModels.F16), Threads = 1 }, factory);

        engine.Load();

        Assert.Contains(provider.Messages, m => m.StartsWith("Loading model tq-chat-5m-f16 from ", StringComparison.Ordinal));
        Assert.Contains(provider.Messages, m => m.StartsWith("Loaded tq-chat-5m-f16 (llama, 6 layers, vocabulary 518, 1 threads)", StringComparison.Ordinal) && m.Contains("Hermes tool calls", StringComparison.Ordinal));
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Messages);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception));
        }
    }
}
