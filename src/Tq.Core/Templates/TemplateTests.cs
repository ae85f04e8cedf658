namespace Tq.Core.Templates;

/// <summary>Jinja tests (<c>x is defined</c>, <c>x is string</c>, <c>x is equalto y</c>, ...).</summary>
internal static class TemplateTests
{
    public static bool Apply(string name, object? value, TemplateArguments args)
    {
        object? Arg() => args.Count > 0 ? args.Get(0, "other") : throw TemplateErrors.Type($"Test '{name}' needs an argument.");
        return name switch
        {
            "defined" => value is not Undefined,
            "undefined" => value is Undefined,
            "none" => value is null,
            "string" => value is string,
            "mapping" => value is TemplateDictionary,
            // As llama.cpp: lists, strings and undefined (which iterates as empty); mappings are tested with 'mapping'.
            "iterable" or "sequence" => value is string or List<object?> or Undefined,
            "number" => value is long or double,
            "integer" => value is long,
            "float" => value is double,
            "boolean" => value is bool,
            "true" => value is true,
            "false" => value is false,
            "callable" => value is TemplateFunction,
            "lower" => value is string s && string.Equals(s, s.ToLowerInvariant(), StringComparison.Ordinal),
            "upper" => value is string u && string.Equals(u, u.ToUpperInvariant(), StringComparison.Ordinal),
            "odd" => TemplateValue.ToLong(value) % 2 != 0,
            "even" => TemplateValue.ToLong(value) % 2 == 0,
            "divisibleby" => TemplateValue.ToLong(value) % TemplateValue.ToLong(Arg()) == 0,
            "equalto" or "eq" or "==" or "sameas" => TemplateValue.Equals(value, Arg()),
            "ne" or "!=" => !TemplateValue.Equals(value, Arg()),
            "lt" or "lessthan" or "<" => TemplateValue.Compare(value, Arg()) < 0,
            "le" or "<=" => TemplateValue.Compare(value, Arg()) <= 0,
            "gt" or "greaterthan" or ">" => TemplateValue.Compare(value, Arg()) > 0,
            "ge" or ">=" => TemplateValue.Compare(value, Arg()) >= 0,
            "in" => TemplateValue.Contains(Arg(), value),
            _ => throw TemplateErrors.Type($"Unsupported test '{name}'."),
        };
    }
}
