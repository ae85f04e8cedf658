namespace Tq.Core.Templates;

/// <summary>Evaluated call arguments: positional values and keyword values in call order.</summary>
internal sealed class TemplateArguments
{
    public static readonly TemplateArguments Empty = new([], []);

    public TemplateArguments(List<object?> positional, List<KeyValuePair<string, object?>> named)
    {
        Positional = positional;
        Named = named;
    }

    public List<object?> Positional { get; }

    public List<KeyValuePair<string, object?>> Named { get; }

    public int Count => Positional.Count + Named.Count;

    /// <summary>The argument at a position or with a keyword (Python binding), or <paramref name="fallback"/>.</summary>
    public object? Get(int position, string name, object? fallback = null)
    {
        if (position >= 0 && position < Positional.Count)
        {
            return Positional[position];
        }

        foreach (KeyValuePair<string, object?> pair in Named)
        {
            if (string.Equals(pair.Key, name, StringComparison.Ordinal))
            {
                return pair.Value;
            }
        }

        return fallback;
    }

    /// <summary>A keyword-only argument, or <paramref name="fallback"/>.</summary>
    public object? GetKeyword(string name, object? fallback = null) => Get(-1, name, fallback);

    public bool Has(int position, string name)
    {
        if (position >= 0 && position < Positional.Count)
        {
            return true;
        }

        foreach (KeyValuePair<string, object?> pair in Named)
        {
            if (string.Equals(pair.Key, name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Rejects keywords a function does not know, so a template relying on one fails loudly.</summary>
    public void ExpectOnly(string function, int maxPositional, params string[] names)
    {
        if (Positional.Count > maxPositional)
        {
            throw TemplateErrors.Type($"'{function}' takes at most {maxPositional} positional argument(s), got {Positional.Count}.");
        }

        foreach (KeyValuePair<string, object?> pair in Named)
        {
            if (Array.IndexOf(names, pair.Key) < 0)
            {
                throw TemplateErrors.Type($"'{function}' got an unsupported keyword argument '{pair.Key}'.");
            }
        }
    }
}
