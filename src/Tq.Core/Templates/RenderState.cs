namespace Tq.Core.Templates;

/// <summary>Per-render state shared by every scope of one <see cref="ChatTemplate.Render(ChatTemplateInput)"/> call.</summary>
internal sealed class RenderState(string source, DateTimeOffset now)
{
    /// <summary>Template source, for error positions.</summary>
    public string Source { get; } = source;

    /// <summary>The instant <c>strftime_now</c> formats (local time of the injected clock).</summary>
    public DateTimeOffset Now { get; } = now;

    /// <summary>Guards against runaway recursion in macros.</summary>
    public int Depth { get; set; }
}
