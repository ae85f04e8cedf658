namespace Tq.Core.Templates;

/// <summary>
/// The value of a missing variable, attribute or key. As in llama.cpp's Jinja engine it renders as the empty
/// string, is falsy, iterates as empty, and any attribute or item of it is again undefined; <c>is defined</c> is false.
/// </summary>
internal sealed class Undefined
{
    public static readonly Undefined Instance = new();

    private Undefined()
    {
    }

    public override string ToString() => string.Empty;
}
