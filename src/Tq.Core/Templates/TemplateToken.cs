namespace Tq.Core.Templates;

/// <summary>One lexical token with its offset in the template source (for error positions).</summary>
internal readonly record struct TemplateToken(TemplateTokenKind Kind, string Text, int Offset, long IntegerValue = 0, double FloatValue = 0)
{
    public bool Is(TemplateTokenKind kind, string text) => Kind == kind && string.Equals(Text, text, StringComparison.Ordinal);

    public bool IsName(string text) => Is(TemplateTokenKind.Name, text);

    public bool IsOperator(string text) => Is(TemplateTokenKind.Operator, text);
}
