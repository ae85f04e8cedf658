namespace Tq.Core.Templates;

/// <summary>
/// What a template does with system messages, tools and tool calls, found by rendering probe conversations once
/// (the method of llama.cpp's Jinja integration). The renderer uses it for its polyfills; a chat client can use it
/// to decide how to present tools to a model whose template ignores them.
/// </summary>
/// <param name="SupportsSystemRole">A system message's text appears in the rendering.</param>
/// <param name="SupportsTools">Tool definitions appear in the rendering.</param>
/// <param name="SupportsToolCalls">An assistant tool call appears in the rendering.</param>
/// <param name="RequiresObjectArguments">Tool-call arguments render correctly only as a JSON object, not as a JSON string.</param>
public sealed record ChatTemplateCapabilities(bool SupportsSystemRole, bool SupportsTools, bool SupportsToolCalls, bool RequiresObjectArguments);
