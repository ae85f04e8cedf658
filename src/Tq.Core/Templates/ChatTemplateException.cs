namespace Tq.Core.Templates;

/// <summary>
/// A chat template could not be parsed or rendered: a syntax error, an unsupported Jinja construct, a type error
/// while rendering, or a <c>raise_exception(...)</c> call made by the template itself (the template's way of
/// refusing a conversation, e.g. "Conversation roles must alternate user/assistant/...").
/// </summary>
public sealed class ChatTemplateException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public ChatTemplateException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public ChatTemplateException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception without details.</summary>
    public ChatTemplateException()
        : base("The chat template failed.")
    {
    }

    internal ChatTemplateException(string message, int? line, int? column, bool raisedByTemplate, Exception? innerException = null)
        : base(message, innerException)
    {
        Line = line;
        Column = column;
        IsRaisedByTemplate = raisedByTemplate;
    }

    /// <summary>The 1-based line in the template source where the error was found, when known.</summary>
    public int? Line { get; }

    /// <summary>The 1-based column in the template source where the error was found, when known.</summary>
    public int? Column { get; }

    /// <summary>
    /// <see langword="true"/> when the template itself called <c>raise_exception(message)</c>; <see cref="Exception.Message"/>
    /// is then exactly the template's message.
    /// </summary>
    public bool IsRaisedByTemplate { get; }
}
