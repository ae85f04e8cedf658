// A console chat bot on a local model: streamed answers, /reset, /stats, /exit.
//   dotnet run --project samples/ChatBot [-- model.gguf [bitsK bitsV]]
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Tq.Extensions.AI;
using TqConnector.Samples;

TurboQuantChatOptions options;
TurboQuantChatClient client;
try
{
    options = new TurboQuantChatOptions
    {
        ModelPath = SampleModels.Resolve(args.Length > 0 ? args[0] : null),
        BitsK = args.Length > 1 ? ParseBits(args[1]) : 4,
        BitsV = args.Length > 2 ? ParseBits(args[2]) : 2,
        MaxConcurrentSessions = 1,
        EagerLoad = true,
    };
    client = new TurboQuantChatClient(options);
}
catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or Tq.Core.Gguf.GgufFormatException or NotSupportedException)
{
    // A wrong path or option is the user's to fix: one line, no stack trace.
    Console.Error.WriteLine($"chatbot: {e.Message.ReplaceLineEndings(" ")}");
    Console.Error.WriteLine("usage: dotnet run --project samples/ChatBot [-- model.gguf [bitsK bitsV]]");
    return 1;
}

using var disposeClient = client;
List<ChatMessage> history = [new(ChatRole.System, "You are a helpful assistant.")];
UsageDetails? last = null;
double seconds = 0;
bool interactive = !Console.IsInputRedirected;
Console.WriteLine($"ChatBot on {client.Engine.ModelId} (KV cache K{options.BitsK}/V{options.BitsV}). Commands: /reset, /stats, /exit.");

while (true)
{
    if (interactive)
    {
        Console.Write("you> ");
    }

    string? line = Console.ReadLine()?.Trim();
    if (line is null or "/exit")
    {
        break;
    }

    if (line.Length == 0)
    {
        continue;
    }

    if (line == "/reset")
    {
        history.RemoveRange(1, history.Count - 1);
        client.Engine.ResetIdleSessions();
        Console.WriteLine("(new conversation)");
        continue;
    }

    if (line == "/stats")
    {
        PrintStats();
        continue;
    }

    history.Add(new ChatMessage(ChatRole.User, line));
    Console.Write("bot> ");
    var updates = new List<ChatResponseUpdate>();
    long start = Stopwatch.GetTimestamp();
    await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(history, new ChatOptions { MaxOutputTokens = 256 }))
    {
        updates.Add(update);
        Console.Write(update.Text);
    }

    seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
    Console.WriteLine();
    ChatResponse response = updates.ToChatResponse();
    history.AddMessages(response);
    last = response.Usage;
}

return 0;

static float ParseBits(string text) => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float bits)
    ? bits
    : throw new ArgumentException($"'{text}' is not a number of bits (2, 2.5, 3, 3.5, 4, 8 or 16).");

void PrintStats()
{
    TurboQuantEngineStatistics s = client.Engine.GetStatistics();
    if (last is not null)
    {
        long decodeUs = last.AdditionalCounts?.GetValueOrDefault(TurboQuantChatClient.DecodeMicrosecondsCount) ?? 0;
        long output = last.OutputTokenCount ?? 0;
        double tokensPerSecond = decodeUs > 0 && output > 1 ? (output - 1) * 1e6 / decodeUs : 0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"last answer: {output} tokens at {tokensPerSecond:F1} tokens/s ({seconds:F2} s in all); prompt {last.InputTokenCount} tokens, {last.CachedInputTokenCount} reused from the KV cache"));
        long tokens = (last.InputTokenCount ?? 0) + output;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"KV memory of this conversation ({tokens} tokens): {s.KvCacheKind} {tokens * s.KvCacheBytesPerToken / 1024.0:F1} KiB vs F16 {tokens * s.F16KvCacheBytesPerToken / 1024.0:F1} KiB ({(double)s.F16KvCacheBytesPerToken / s.KvCacheBytesPerToken:F2}x smaller)"));
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"KV caches allocated: {s.KvCacheBytes / 1048576.0:F2} MiB in {s.LiveSessions} session(s), {s.KvCacheBytesPerToken} bytes/token (F16: {s.F16KvCacheBytesPerToken})"));
}
