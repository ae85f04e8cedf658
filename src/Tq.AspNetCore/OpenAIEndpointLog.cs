using Microsoft.Extensions.Logging;

namespace Tq.AspNetCore;

/// <summary>The endpoint's log messages: refusals are the caller's business (Information, no stack trace).</summary>
internal static partial class OpenAIEndpointLog
{
    [LoggerMessage(1, LogLevel.Information, "Refused a chat completion request with {Status}: {Message}")]
    public static partial void Rejected(ILogger logger, int status, string message);

    [LoggerMessage(2, LogLevel.Information, "The client disconnected; its generation was cancelled.")]
    public static partial void Disconnected(ILogger logger);

    [LoggerMessage(3, LogLevel.Error, "A chat completion request failed.")]
    public static partial void Failed(ILogger logger, Exception exception);
}
