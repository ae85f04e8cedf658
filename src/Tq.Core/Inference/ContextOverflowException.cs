namespace Tq.Core.Inference;

/// <summary>Thrown when tokens would not fit a session's context window; nothing is evaluated.</summary>
public sealed class ContextOverflowException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public ContextOverflowException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ContextOverflowException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ContextOverflowException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="requested"/> tokens against a window of <paramref name="contextLength"/>.</summary>
    public ContextOverflowException(int requested, int contextLength)
        : base($"{requested} tokens do not fit the context window of {contextLength} tokens.")
    {
        Requested = requested;
        ContextLength = contextLength;
    }

    /// <summary>Tokens the session would have held.</summary>
    public int Requested { get; }

    /// <summary>The session's context window.</summary>
    public int ContextLength { get; }
}
