namespace Tq.Core.Templates;

/// <summary>
/// A variable scope. The root holds globals and inputs, the template body gets a child, and every <c>for</c>
/// loop and macro call gets its own child: as in Jinja, <c>set</c> inside a loop does not leak out of it
/// (use <c>namespace()</c> for that), while <c>if</c> blocks share their parent's scope.
/// </summary>
internal sealed class TemplateScope(RenderState state, TemplateScope? parent)
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

    public RenderState State { get; } = state;

    public TemplateScope? Parent { get; } = parent;

    public object? Lookup(string name)
    {
        for (TemplateScope? scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._variables.TryGetValue(name, out object? value))
            {
                return value;
            }
        }

        return Undefined.Instance;
    }

    public void Set(string name, object? value) => _variables[name] = value;
}
