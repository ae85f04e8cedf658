using Microsoft.Extensions.Logging;

namespace Tq.Extensions.AI;

/// <summary>The engine's log messages (source-generated, so disabled levels cost nothing).</summary>
internal static partial class TurboQuantLog
{
    [LoggerMessage(1, LogLevel.Information, "Loading model {ModelId} from {Path} ({Bytes} bytes)")]
    public static partial void Loading(ILogger logger, string modelId, string path, long bytes);

    [LoggerMessage(2, LogLevel.Information, "Loaded {ModelId} ({Architecture}, {Layers} layers, vocabulary {Vocabulary}, {Threads} threads) in {ElapsedMs} ms; context {Context} tokens, {Format} tool calls, KV cache {Kind} {BytesPerToken} bytes/token, up to {Sessions} sessions")]
    public static partial void Loaded(ILogger logger, string modelId, string architecture, int layers, int vocabulary, int threads, long elapsedMs, int context, string format, string kind, long bytesPerToken, int sessions);

    [LoggerMessage(3, LogLevel.Warning, "ContextSize {Context} of {ModelId} is beyond its trained context of {Trained} tokens; output past {Trained} tokens is unreliable")]
    public static partial void ContextBeyondTraining(ILogger logger, string modelId, int context, int trained);
}
