using System.Diagnostics;
using Microsoft.Extensions.AI;
using Tq.Core.Cache;
using Tq.Extensions.AI;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq chat -m model.gguf [--bits-k 4 --bits-v 2] [--system ...]</c>: an interactive chat on
/// <see cref="TurboQuantChatClient"/>, streamed; <c>/reset</c>, <c>/stats</c>, <c>/exit</c>. Reads piped stdin too.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var engine = EngineArguments.Create("Context window (default: the model's).", "Most tokens per answer (default: up to the context end).")
            .Add(new Option<string?>("--chat-template") { Description = "A built-in template name or Jinja text instead of the model's." }, (o, v) => o.ChatTemplate = v)
            .Add(CliOptions.Temperature(), (o, v) => o.Temperature = v)
            .Add(new Option<long?>("--seed", "-s") { Description = "Sampling seed (default: random)." }, (o, v) => o.Seed = v);
        var system = new Option<string?>("--system") { Description = "The system prompt." };
        var json = new Option<bool>("--json") { Description = "Every answer is a JSON object (JSON mode)." };
        var jsonSchema = new Option<string?>("--json-schema") { Description = "Every answer is JSON matching this JSON Schema (inline JSON text)." };
        var command = CliOptions.Command("chat", "Chat with a model in the terminal (streamed; /reset, /stats, /exit). Reads piped stdin too.", [.. engine.Options, system, json, jsonSchema]);

        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(() =>
        {
            JsonOutput? output = JsonOutput.FromOptions(parse.GetValue(json), parse.GetValue(jsonSchema));
            TurboQuantChatOptions options = engine.Bind(parse, new TurboQuantChatOptions { MaxConcurrentSessions = 1 });
            return RunAsync(options, parse.GetValue(system), output, Console.In, Console.Out, cancellationToken);
        }));
        return command;
    }

    /// <summary>Runs the chat loop over <paramref name="input"/> until <c>/exit</c> or the end of the input.</summary>
    internal static Task<int> RunAsync(TurboQuantChatOptions options, string? system, TextReader input, TextWriter output, CancellationToken cancellationToken) =>
        RunAsync(options, system, null, input, output, cancellationToken);

    /// <summary>Runs the chat loop; with <paramref name="json"/>, every answer goes through the JSON stage of the sampling chain.</summary>
    internal static async Task<int> RunAsync(TurboQuantChatOptions options, string? system, JsonOutput? json, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        ChatOptions? chatOptions = json is null ? null : new ChatOptions { ResponseFormat = json.ResponseFormat };
        using var client = new TurboQuantChatClient(options);
        CliErrors.WarnIfBeyondTraining(options.ContextSize, client.Engine.Model.TrainedContextLength);
        bool interactive = !Console.IsInputRedirected && ReferenceEquals(input, Console.In);
        List<ChatMessage> history = NewHistory(system);
        UsageDetails? last = null;
        double lastSeconds = 0;
        if (interactive)
        {
            output.WriteLine($"tq chat: {client.Engine.ModelId}, KV cache {Describe(client.Engine.KvCache)}. /reset, /stats, /exit.");
        }

        while (true)
        {
            if (interactive)
            {
                output.Write("> ");
            }

            string? line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null || line.Trim() == "/exit")
            {
                return 0;
            }

            switch (line.Trim())
            {
                case "":
                    continue;
                case "/reset":
                    history = NewHistory(system);
                    client.Engine.ResetIdleSessions();
                    output.WriteLine("(conversation reset)");
                    continue;
                case "/stats":
                    output.WriteLine(Stats(client, last, lastSeconds));
                    continue;
            }

            history.Add(new ChatMessage(ChatRole.User, line));
            var updates = new List<ChatResponseUpdate>();
            long start = Stopwatch.GetTimestamp();
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(history, chatOptions, cancellationToken).ConfigureAwait(false))
            {
                updates.Add(update);
                output.Write(update.Text);
                output.Flush();
            }

            lastSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            output.WriteLine();
            ChatResponse response = updates.ToChatResponse();
            history.AddMessages(response);
            last = response.Usage;
        }
    }

    private static List<ChatMessage> NewHistory(string? system) =>
        string.IsNullOrEmpty(system) ? [] : [new ChatMessage(ChatRole.System, system)];

    private static string Describe(KvCacheOptions o) => o.Kind switch
    {
        KvCacheKind.F16 => "FP16",
        KvCacheKind.Q8_0 => "Q8_0",
        _ => string.Create(CultureInfo.InvariantCulture, $"TurboQuant K{o.BitsK}/V{o.BitsV}"),
    };

    private static string Stats(TurboQuantChatClient client, UsageDetails? usage, double seconds)
    {
        TurboQuantEngineStatistics s = client.Engine.GetStatistics();
        var text = new System.Text.StringBuilder();
        if (usage is not null)
        {
            long prefillUs = usage.AdditionalCounts?.GetValueOrDefault(TurboQuantChatClient.PrefillMicrosecondsCount) ?? 0;
            long decodeUs = usage.AdditionalCounts?.GetValueOrDefault(TurboQuantChatClient.DecodeMicrosecondsCount) ?? 0;
            long output = usage.OutputTokenCount ?? 0;
            long prefilled = (usage.InputTokenCount ?? 0) - (usage.CachedInputTokenCount ?? 0);
            text.Append(CultureInfo.InvariantCulture, $"last answer: prompt {usage.InputTokenCount} tokens ({usage.CachedInputTokenCount} reused from the cache, {prefilled} prefilled in {prefillUs / 1000.0:F1} ms), ")
                .Append(CultureInfo.InvariantCulture, $"{output} generated in {decodeUs / 1000.0:F1} ms ({(decodeUs > 0 && output > 1 ? (output - 1) * 1e6 / decodeUs : 0):F1} tokens/s), total {seconds:F2} s\n");
            long tokens = (usage.InputTokenCount ?? 0) + output;
            text.Append(CultureInfo.InvariantCulture, $"conversation: {tokens} tokens; KV cache {Describe(client.Engine.KvCache)} {s.KvCacheBytesPerToken} bytes/token vs FP16 {s.F16KvCacheBytesPerToken} ")
                .Append(CultureInfo.InvariantCulture, $"({(double)s.F16KvCacheBytesPerToken / s.KvCacheBytesPerToken:F2}x smaller): {tokens * s.KvCacheBytesPerToken / 1024.0:F1} KiB vs {tokens * s.F16KvCacheBytesPerToken / 1024.0:F1} KiB\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"sessions: {s.LiveSessions} live, KV caches hold {s.KvCacheBytes / 1048576.0:F2} MiB; context {s.ContextLength} tokens; model {client.Engine.ModelId}");
        return text.ToString();
    }
}
