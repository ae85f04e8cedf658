namespace Tq.Core.Templates;

/// <summary>A template mapping (JSON object, dict literal, <c>namespace()</c>, <c>loop</c>): string keys in insertion order.</summary>
internal sealed class TemplateDictionary : OrderedDictionary<string, object?>
{
    public TemplateDictionary()
        : base(StringComparer.Ordinal)
    {
    }

    public TemplateDictionary(int capacity)
        : base(capacity, StringComparer.Ordinal)
    {
    }
}
