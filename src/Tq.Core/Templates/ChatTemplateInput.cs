using System.Text.Json.Nodes;

namespace Tq.Core.Templates;

/// <summary>
/// Everything a chat template sees, in the OpenAI / Hugging Face shape llama.cpp passes to templates:
/// <c>messages</c> (<c>{"role", "content", "tool_calls": [{"id", "type": "function", "function": {"name", "arguments"}}],
/// "tool_call_id", "name", "reasoning_content"}</c>), <c>tools</c> (<c>{"type": "function", "function": {"name",
/// "description", "parameters"}}</c>), <c>add_generation_prompt</c>, <c>bos_token</c>, <c>eos_token</c>,
/// <c>enable_thinking</c>, <c>date_string</c>, <c>strftime_now(format)</c> and any extra variables.
/// </summary>
/// <remarks>
/// Tool-call <c>arguments</c> should be given as a JSON <em>string</em>, as in the OpenAI API: templates that need an
/// object get it parsed (see <see cref="ApplyPolyfills"/>). The input is read, never modified.
/// </remarks>
public sealed class ChatTemplateInput
{
    /// <summary>Creates an input for a conversation.</summary>
    /// <param name="messages">The conversation, oldest first: an array of message objects.</param>
    public ChatTemplateInput(JsonArray messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        Messages = messages;
    }

    /// <summary>The conversation, oldest first (the template's <c>messages</c>).</summary>
    public JsonArray Messages { get; }

    /// <summary>Tool definitions (the template's <c>tools</c>); <see langword="null"/> or empty leaves <c>tools</c> undefined.</summary>
    public JsonArray? Tools { get; set; }

    /// <summary>Whether to end with the assistant header the model continues from. Default <see langword="true"/>.</summary>
    public bool AddGenerationPrompt { get; set; } = true;

    /// <summary>The model's BOS token text (<c>bos_token</c>), e.g. <c>&lt;s&gt;</c>.</summary>
    public string BosToken { get; set; } = string.Empty;

    /// <summary>The model's EOS token text (<c>eos_token</c>), e.g. <c>&lt;/s&gt;</c>.</summary>
    public string EosToken { get; set; } = string.Empty;

    /// <summary>
    /// The template's <c>enable_thinking</c>. llama.cpp always defines it (default <see langword="true"/>), which
    /// Qwen3, SmolLM3 and DeepSeek-R1 templates read; <see langword="null"/> leaves it undefined.
    /// </summary>
    public bool? EnableThinking { get; set; } = true;

    /// <summary>
    /// Extra template variables (e.g. <c>tools_in_user_message</c>, <c>documents</c>, <c>reasoning_effort</c>); they
    /// override the built-in ones of the same name.
    /// </summary>
    public IDictionary<string, JsonNode?> Variables { get; } = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);

    /// <summary>
    /// The clock for <c>strftime_now(format)</c> and <c>date_string</c> (<c>"%d %b %Y"</c>, as llama.cpp passes to
    /// Llama 3.x templates), read in its local time zone. Default <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Adapt the messages to the template's detected <see cref="ChatTemplate.Capabilities"/> as llama.cpp does
    /// (default <see langword="true"/>): a tool-call message without content gets <c>""</c>; a leading system message
    /// is merged into the next message when the template rejects or ignores the system role; JSON-string tool-call
    /// arguments are parsed into objects when the template renders object arguments.
    /// </summary>
    public bool ApplyPolyfills { get; set; } = true;

    /// <summary>
    /// Set when the tokenizer adds BOS itself: a leading <see cref="BosToken"/> text is then removed from the
    /// rendering, as llama.cpp does, so the prompt does not get two BOS tokens.
    /// </summary>
    public bool TokenizerAddsBos { get; set; }

    /// <summary>Set when the tokenizer appends EOS itself: a trailing <see cref="EosToken"/> text is then removed, as llama.cpp does.</summary>
    public bool TokenizerAddsEos { get; set; }
}
