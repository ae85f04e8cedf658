namespace Tq.Core.Gguf;

/// <summary>
/// Thrown when a file is not a valid GGUF file: wrong magic, unsupported version, truncation, lengths or counts
/// beyond the file, tensor data outside the file or misaligned, unknown value types, duplicates.
/// </summary>
public sealed class GgufFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public GgufFormatException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public GgufFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public GgufFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a problem at a byte offset, naming the field being read.</summary>
    public GgufFormatException(string message, long offset, string field)
        : base($"{message} (field '{field}' at byte offset {offset})")
    {
        Offset = offset;
        Field = field;
    }

    private GgufFormatException(string message, long offset, string? field, Exception innerException)
        : base(message, innerException)
    {
        Offset = offset;
        Field = field;
    }

    /// <summary>The byte offset in the file where the problem was found, or -1 when not tied to one place.</summary>
    public long Offset { get; } = -1;

    /// <summary>The field being read when the problem was found, if known.</summary>
    public string? Field { get; }

    /// <summary>The same problem, with the file's path in front of the message.</summary>
    internal GgufFormatException InFile(string path) => new($"'{path}': {Message}", Offset, Field, this);
}
