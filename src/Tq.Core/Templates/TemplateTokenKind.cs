namespace Tq.Core.Templates;

/// <summary>Kinds of tokens produced by <see cref="TemplateLexer"/>.</summary>
internal enum TemplateTokenKind
{
    /// <summary>Literal template text, already trimmed by the whitespace-control rules.</summary>
    Text,

    /// <summary><c>{{</c>.</summary>
    VariableBegin,

    /// <summary><c>}}</c>.</summary>
    VariableEnd,

    /// <summary><c>{%</c>.</summary>
    BlockBegin,

    /// <summary><c>%}</c>.</summary>
    BlockEnd,

    /// <summary>An identifier or keyword.</summary>
    Name,

    /// <summary>A string literal (value unescaped).</summary>
    String,

    /// <summary>An integer literal.</summary>
    Integer,

    /// <summary>A floating-point literal.</summary>
    Float,

    /// <summary>An operator or punctuation.</summary>
    Operator,

    /// <summary>End of the template.</summary>
    End,
}
