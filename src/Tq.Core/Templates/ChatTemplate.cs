using System.Text;

namespace Tq.Core.Templates;

/// <summary>
/// A compiled chat template: the Jinja subset used by GGUF <c>tokenizer.chat_template</c> texts, rendered as
/// llama.cpp renders them (<c>llama-server --jinja</c>). Parse once, render many times; rendering is thread-safe.
/// </summary>
/// <example>
/// <code>
/// var template = ChatTemplate.Parse(gguf.ChatTemplate ?? BuiltInChatTemplates.DefaultName);
/// var input = new ChatTemplateInput(messages) { Tools = tools, BosToken = "&lt;s&gt;", EosToken = "&lt;/s&gt;", TokenizerAddsBos = true };
/// string prompt = template.Render(input);
/// </code>
/// </example>
public sealed class ChatTemplate
{
    private readonly List<TemplateStatement> _body;
    private readonly Lazy<ChatTemplateCapabilities> _capabilities;
    private readonly string _normalizedSource;

    private ChatTemplate(string source, string normalizedSource, List<TemplateStatement> body)
    {
        Source = source;
        _normalizedSource = normalizedSource;
        _body = body;
        _capabilities = new Lazy<ChatTemplateCapabilities>(() => TemplatePolyfills.DetectCapabilities(this), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The Jinja source the template was parsed from.</summary>
    public string Source { get; }

    /// <summary>How the template treats system messages, tools and tool calls (detected on first use, then cached).</summary>
    public ChatTemplateCapabilities Capabilities => _capabilities.Value;

    /// <summary>Parses and compiles a Jinja chat template.</summary>
    /// <param name="source">The template text, e.g. a GGUF file's <c>tokenizer.chat_template</c>.</param>
    /// <returns>The compiled template.</returns>
    /// <exception cref="ChatTemplateException">The template has a syntax error or uses an unsupported construct (the message names its line and column).</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);

        // llama.cpp normalises \r\n and \r to \n before lexing; positions in errors refer to the normalised text.
        string normalized = source.Contains('\r', StringComparison.Ordinal)
            ? source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n')
            : source;
        return new ChatTemplate(source, normalized, TemplateParser.Parse(normalized));
    }

    /// <summary>Renders a conversation into the prompt text the model is to continue.</summary>
    /// <param name="input">Messages, tools, special tokens, flags and extra variables.</param>
    /// <returns>The prompt text.</returns>
    /// <exception cref="ChatTemplateException">
    /// The template refused the conversation with <c>raise_exception</c> (<see cref="ChatTemplateException.IsRaisedByTemplate"/>,
    /// message exactly the template's), or rendering failed (e.g. a type error; the message names line and column).
    /// </exception>
    public string Render(ChatTemplateInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.TimeProvider is null)
        {
            throw new ArgumentException("ChatTemplateInput.TimeProvider must not be null.", nameof(input));
        }

        string bos = input.BosToken ?? string.Empty;
        string eos = input.EosToken ?? string.Empty;
        var messages = (List<object?>)TemplateValue.FromJson(input.Messages)!;
        if (input.ApplyPolyfills)
        {
            ChatTemplateCapabilities capabilities = Capabilities;
            TemplatePolyfills.AddMissingContent(messages);
            if (!capabilities.SupportsSystemRole)
            {
                messages = TemplatePolyfills.MergeSystemMessages(messages);
            }

            if (capabilities.SupportsObjectArguments)
            {
                TemplatePolyfills.ParseToolCallArguments(messages);
            }
        }

        DateTimeOffset now = input.TimeProvider.GetLocalNow();
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["add_generation_prompt"] = input.AddGenerationPrompt,
            ["bos_token"] = bos,
            ["eos_token"] = eos,
            ["date_string"] = TemplateStrftime.Format(now, "%d %b %Y"),
        };
        if (input.Tools is { Count: > 0 })
        {
            variables["tools"] = TemplateValue.FromJson(input.Tools);
        }

        if (input.EnableThinking is bool thinking)
        {
            variables["enable_thinking"] = thinking;
        }

        foreach (KeyValuePair<string, System.Text.Json.Nodes.JsonNode?> pair in input.Variables)
        {
            variables[pair.Key] = TemplateValue.FromJson(pair.Value);
        }

        string result = RenderVariables(variables, now);
        if (input.TokenizerAddsBos && bos.Length > 0 && result.StartsWith(bos, StringComparison.Ordinal))
        {
            result = result[bos.Length..];
        }

        if (input.TokenizerAddsEos && eos.Length > 0 && result.EndsWith(eos, StringComparison.Ordinal))
        {
            result = result[..^eos.Length];
        }

        return result;
    }

    /// <summary>Renders with exactly the given variables (plus the built-in functions); no polyfills.</summary>
    internal string RenderVariables(Dictionary<string, object?> variables, DateTimeOffset now)
    {
        var state = new RenderState(_normalizedSource, now);
        var globals = new TemplateScope(state, parent: null);
        TemplateGlobals.Register(globals);
        foreach (KeyValuePair<string, object?> pair in variables)
        {
            globals.Set(pair.Key, pair.Value);
        }

        var output = new StringBuilder(Source.Length);
        try
        {
            TemplateStatement.RenderAll(_body, new TemplateScope(state, globals), output);
        }
        catch (InsufficientExecutionStackException e)
        {
            throw new ChatTemplateException("The chat template recursed too deeply.", e);
        }

        return output.ToString();
    }
}
