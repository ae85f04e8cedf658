namespace Tq.Core.Templates;

/// <summary>A callable template value: a built-in global (<c>range</c>, <c>namespace</c>, ...) or a macro.</summary>
internal sealed class TemplateFunction(string name, Func<TemplateArguments, RenderState, object?> invoke)
{
    public string Name { get; } = name;

    public object? Invoke(TemplateArguments arguments, RenderState state) => invoke(arguments, state);
}
