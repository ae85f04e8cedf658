namespace Tq.Core.Templates;

/// <summary>Builds <see cref="ChatTemplateException"/>s that name the line and column of the offending construct.</summary>
internal static class TemplateErrors
{
    public static ChatTemplateException Syntax(string source, int offset, string message)
    {
        (int line, int column) = Position(source, offset);
        return new ChatTemplateException($"Chat template syntax error at line {line}, column {column}: {message}", line, column, raisedByTemplate: false);
    }

    public static ChatTemplateException Runtime(string source, int offset, string message, Exception? inner = null)
    {
        (int line, int column) = Position(source, offset);
        return new ChatTemplateException($"Chat template error at line {line}, column {column}: {message}", line, column, raisedByTemplate: false, inner);
    }

    public static ChatTemplateException Raised(string source, int offset, string message)
    {
        (int line, int column) = Position(source, offset);
        return new ChatTemplateException(message, line, column, raisedByTemplate: true);
    }

    /// <summary>An error without a position yet; the enclosing node adds its line and column.</summary>
    public static ChatTemplateException Type(string message) => new(message, line: null, column: null, raisedByTemplate: false);

    public static (int Line, int Column) Position(string source, int offset)
    {
        offset = Math.Clamp(offset, 0, source.Length);
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < offset; i++)
        {
            if (source[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return (line, offset - lineStart + 1);
    }
}
