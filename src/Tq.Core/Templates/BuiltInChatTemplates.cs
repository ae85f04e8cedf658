using System.Diagnostics.CodeAnalysis;

namespace Tq.Core.Templates;

/// <summary>
/// Named chat templates for models whose GGUF has no <c>tokenizer.chat_template</c>, or when the user picks one
/// (like llama.cpp's <c>--chat-template NAME</c>). The simple formats render what llama.cpp's built-in (non-Jinja)
/// templates of the same name produce; <c>qwen2.5</c> and <c>chatml-tools</c> are full Jinja templates with tool calling.
/// </summary>
/// <remarks>A model without any template falls back to <see cref="DefaultName"/> (ChatML), as llama.cpp does.</remarks>
public static class BuiltInChatTemplates
{
    /// <summary>The fallback for models without a template: <c>chatml</c>.</summary>
    public const string DefaultName = "chatml";

    // Plain ChatML, as llama.cpp's LLM_CHAT_TEMPLATE_CHATML.
    private const string ChatMl = """
        {%- for message in messages -%}
        {{- '<|im_start|>' + message.role + '\n' }}{% if message.content is string %}{{ message.content }}{% endif %}{{ '<|im_end|>\n' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}
        """;

    // Llama 3 headers, as llama.cpp's LLM_CHAT_TEMPLATE_LLAMA_3 (content trimmed), with the leading BOS of Meta's template.
    private const string Llama3 = """
        {{- bos_token -}}
        {%- for message in messages -%}
        {{- '<|start_header_id|>' + message.role + '<|end_header_id|>\n\n' }}{% if message.content is string %}{{ message.content | trim }}{% endif %}{{ '<|eot_id|>' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}{%- endif -%}
        """;

    // Mistral v7, as llama.cpp's LLM_CHAT_TEMPLATE_MISTRAL_V7 (a space after each opening tag).
    private const string MistralV7 = """
        {{- bos_token -}}
        {%- for message in messages -%}
        {%- set content = message.content if message.content is string else '' -%}
        {%- if message.role == 'system' -%}{{- '[SYSTEM_PROMPT] ' + content + '[/SYSTEM_PROMPT]' -}}
        {%- elif message.role == 'user' -%}{{- '[INST] ' + content + '[/INST]' -}}
        {%- else -%}{{- ' ' + content + eos_token -}}
        {%- endif -%}
        {%- endfor -%}
        """;

    // Phi-3, as llama.cpp's LLM_CHAT_TEMPLATE_PHI_3.
    private const string Phi3 = """
        {%- for message in messages -%}
        {{- '<|' + message.role + '|>\n' }}{% if message.content is string %}{{ message.content }}{% endif %}{{ '<|end|>\n' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}{{- '<|assistant|>\n' -}}{%- endif -%}
        """;

    // Gemma, as llama.cpp's LLM_CHAT_TEMPLATE_GEMMA: system text goes in front of the next user turn, "assistant" is "model".
    private const string Gemma = """
        {{- bos_token -}}
        {%- set ns = namespace(system='') -%}
        {%- for message in messages -%}
        {%- set content = (message.content if message.content is string else '') | trim -%}
        {%- if message.role == 'system' -%}
        {%- set ns.system = ns.system + content -%}
        {%- else -%}
        {%- set role = 'model' if message.role == 'assistant' else message.role -%}
        {{- '<start_of_turn>' + role + '\n' -}}
        {%- if ns.system and role != 'model' -%}{{- ns.system + '\n\n' -}}{%- set ns.system = '' -%}{%- endif -%}
        {{- content + '<end_of_turn>\n' -}}
        {%- endif -%}
        {%- endfor -%}
        {%- if add_generation_prompt -%}{{- '<start_of_turn>model\n' -}}{%- endif -%}
        """;

    // Qwen2.5-Instruct's own template (Apache-2.0): ChatML with <tools> and <tool_call> blocks.
    private const string Qwen25 = """"
{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}

"""";

    // The ChatML + tools template of this project's tq-chat models: Qwen2.5's format with a neutral default system prompt.
    private const string ChatMlTools = """"
{%- if tools %}
{{- '<|im_start|>system\n' }}
{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are a helpful assistant.' }}{%- endif %}
{{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
{%- for tool in tools %}{{- "\n" }}{{- tool | tojson }}{%- endfor %}
{{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}{%- else %}{{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{%- endif %}
{%- endif %}
{%- for message in messages %}
{%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
{%- elif message.role == "assistant" %}
{{- '<|im_start|>' + message.role }}
{%- if message.content %}{{- '\n' + message.content }}{%- endif %}
{%- for tool_call in message.tool_calls %}
{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
{{- '\n<tool_call>\n{"name": "' }}{{- tool_call.name }}{{- '", "arguments": ' }}{{- tool_call.arguments | tojson }}{{- '}\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\n' }}
{%- elif message.role == "tool" %}
{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}{{- '<|im_start|>user' }}{%- endif %}
{{- '\n<tool_response>\n' }}{{- message.content }}{{- '\n</tool_response>' }}
{%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}{{- '<|im_end|>\n' }}{%- endif %}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}

"""";

    private static readonly Dictionary<string, Lazy<ChatTemplate>> s_templates = new(StringComparer.OrdinalIgnoreCase)
    {
        ["chatml"] = Compile(ChatMl),
        ["chatml-tools"] = Compile(ChatMlTools),
        ["llama3"] = Compile(Llama3),
        ["mistral-v7"] = Compile(MistralV7),
        ["mistral"] = Compile(MistralV7),
        ["phi3"] = Compile(Phi3),
        ["gemma"] = Compile(Gemma),
        ["qwen2.5"] = Compile(Qwen25),
    };

    /// <summary>The names <see cref="Get"/> accepts (case-insensitive): <c>chatml</c>, <c>chatml-tools</c>, <c>llama3</c>, <c>mistral-v7</c>, <c>mistral</c>, <c>phi3</c>, <c>gemma</c>, <c>qwen2.5</c>.</summary>
    public static IReadOnlyCollection<string> Names { get; } = [.. s_templates.Keys];

    /// <summary>The ChatML template used when a model has no template of its own.</summary>
    public static ChatTemplate Default => s_templates[DefaultName].Value;

    /// <summary>Finds a built-in template by name.</summary>
    /// <param name="name">A name from <see cref="Names"/> (case-insensitive).</param>
    /// <param name="template">The compiled template, when found.</param>
    /// <returns>Whether the name is known.</returns>
    public static bool TryGet(string name, [NotNullWhen(true)] out ChatTemplate? template)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (s_templates.TryGetValue(name.Trim(), out Lazy<ChatTemplate>? lazy))
        {
            template = lazy.Value;
            return true;
        }

        template = null;
        return false;
    }

    /// <summary>Gets a built-in template by name.</summary>
    /// <param name="name">A name from <see cref="Names"/> (case-insensitive).</param>
    /// <returns>The compiled template.</returns>
    /// <exception cref="ArgumentException">The name is not a built-in template.</exception>
    public static ChatTemplate Get(string name) =>
        TryGet(name, out ChatTemplate? template)
            ? template
            : throw new ArgumentException($"Unknown chat template name '{name}'. Known names: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>
    /// Chooses the template for a model as llama.cpp does: an explicit choice first (a built-in name, or else Jinja
    /// source text), then the model's own <c>tokenizer.chat_template</c>, then ChatML.
    /// </summary>
    /// <param name="modelTemplate">The GGUF's <c>tokenizer.chat_template</c>, or <see langword="null"/> when it has none.</param>
    /// <param name="userChoice">A built-in name or a Jinja template text chosen by the user, or <see langword="null"/>.</param>
    /// <returns>The compiled template.</returns>
    /// <exception cref="ChatTemplateException">The chosen or embedded template does not parse.</exception>
    public static ChatTemplate Resolve(string? modelTemplate, string? userChoice = null)
    {
        if (!string.IsNullOrWhiteSpace(userChoice))
        {
            return TryGet(userChoice, out ChatTemplate? named) ? named : ChatTemplate.Parse(userChoice);
        }

        return string.IsNullOrWhiteSpace(modelTemplate) ? Default : ChatTemplate.Parse(modelTemplate);
    }

    private static Lazy<ChatTemplate> Compile(string source) => new(() => ChatTemplate.Parse(source), LazyThreadSafetyMode.ExecutionAndPublication);
}
