using Tq.Core.Inference;

namespace Tq.AspNetCore;

/// <summary>Maps what an <see cref="Microsoft.Extensions.AI.IChatClient"/> throws for a bad request to OpenAI's error object.</summary>
internal static class OpenAIErrors
{
    /// <summary>The error for <paramref name="e"/>, or null when it is not the caller's fault (a server error).</summary>
    public static OpenAIRequestException? ForClient(Exception e) => e switch
    {
        OpenAIRequestException request => request,
        ContextOverflowException overflow => new OpenAIRequestException(
            $"This model's maximum context length is {overflow.ContextLength} tokens. However, your messages resulted in {overflow.Requested} tokens. Please reduce the length of the messages.",
            "messages",
            "context_length_exceeded"),
        ArgumentException or NotSupportedException => new OpenAIRequestException(Clean(e.Message), null, "invalid_request"),
        ObjectDisposedException => new OpenAIRequestException("The server is shutting down.", null, "server_shutting_down", StatusCodes.Status503ServiceUnavailable, "server_error"),
        _ => null,
    };

    /// <summary>Drops what .NET appends to argument errors (the parameter name, the actual value).</summary>
    internal static string Clean(string message)
    {
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut];
        }

        cut = message.IndexOf("Actual value was", StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut];
        }

        return message.ReplaceLineEndings(" ").Trim();
    }
}
