namespace Tq.Extensions.AI.ToolCalling;

/// <summary>
/// A tool call the model started but did not write correctly (invalid JSON, no function name, unterminated at the end
/// of the output). The client can retry the generation a bounded number of times or report <see cref="Message"/>.
/// </summary>
internal sealed class MalformedToolCall
{
    /// <summary>Creates a description of a malformed call.</summary>
    /// <param name="rawText">The text of the call as the model wrote it, opener included.</param>
    /// <param name="message">What is wrong with it.</param>
    public MalformedToolCall(string rawText, string message)
    {
        ArgumentNullException.ThrowIfNull(rawText);
        ArgumentException.ThrowIfNullOrEmpty(message);
        RawText = rawText;
        Message = message;
    }

    /// <summary>The text of the call as the model wrote it, opener included.</summary>
    public string RawText { get; }

    /// <summary>What is wrong with the call.</summary>
    public string Message { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Message}: {RawText}";
}
