namespace Tq.Core.Templates;

/// <summary>
/// What a template does with system messages, tools and tool calls, found by rendering probe conversations once
/// (as llama.cpp probes templates). The renderer uses it for its polyfills; a chat client can use it
/// to decide how to present tools to a model whose template ignores them.
/// </summary>
/// <param name="SupportsSystemRole">A system message's text appears in the rendering.</param>
/// <param name="SupportsTools">Tool definitions appear in the rendering.</param>
/// <param name="SupportsToolCalls">An assistant tool call appears in the rendering.</param>
/// <param name="SupportsObjectArguments">Tool-call arguments given as a JSON object render correctly; llama.cpp then hands the template parsed objects.</param>
public sealed record ChatTemplateCapabilities(bool SupportsSystemRole, bool SupportsTools, bool SupportsToolCalls, bool SupportsObjectArguments);
