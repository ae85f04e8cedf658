using System.Text.Json;
using Microsoft.Extensions.AI;
using Tq.Core.Inference;
using Tq.Core.Sampling;
using Tq.Core.Templates;
using Tq.Core.Tokenization;
using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI;

/// <summary>One request resolved against an engine: the prompt tokens, the sampler settings and the output rules.</summary>
internal sealed class GenerationRequest(
    string promptText, int[] prompt, SamplerOptions sampler, int maxTokens, string[] stops, ToolCallFormat toolFormat, string forcedText,
    bool jsonMode, JsonElement? jsonSchema, string[]? forcedToolNames, ReasoningOutput reasoning)
{
    /// <summary>The rendered prompt (without the forced start of the answer).</summary>
    public string PromptText { get; } = promptText;

    /// <summary>The prompt tokens, the forced start of the answer included.</summary>
    public int[] Prompt { get; } = prompt;

    public SamplerOptions Sampler { get; } = sampler;

    public int MaxTokens { get; } = maxTokens;

    public string[] Stops { get; } = stops;

    /// <summary>How to parse tool calls out of the output; <see cref="ToolCallFormat.None"/> when no tool is offered.</summary>
    public ToolCallFormat ToolFormat { get; } = toolFormat;

    /// <summary>Text appended to the prompt as the start of the answer (to force a tool call), parsed as output.</summary>
    public string ForcedText { get; } = forcedText;

    public bool JsonMode { get; } = jsonMode;

    /// <summary>
    /// When a tool call is required without naming the tool: the declared names, one of which the forced text's
    /// <c>"name": </c> must be completed with (sampling is constrained to them). Null otherwise.
    /// </summary>
    public string[]? ForcedToolNames { get; } = forcedToolNames;

    /// <summary>The schema the JSON output must follow (the supported subset), or null.</summary>
    public JsonElement? JsonSchema { get; } = jsonSchema;

    /// <summary>What happens to a reasoning model's <c>&lt;think&gt;</c> block.</summary>
    public ReasoningOutput Reasoning { get; } = reasoning;

    /// <summary>True when the rendered prompt already opened the <c>&lt;think&gt;</c> block (DeepSeek-R1 templates).</summary>
    public bool StartsInReasoning => ReasoningParser.EndsInReasoning(PromptText);

    public static GenerationRequest Create(TurboQuantEngine engine, IChatClient client, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        if (options?.ModelId is { Length: > 0 } modelId && !string.Equals(modelId, engine.ModelId, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"ChatOptions.ModelId '{modelId}' names another model; this client serves '{engine.ModelId}'.", nameof(options));
        }

        ArgumentNullException.ThrowIfNull(messages);
        if (!messages.Any())
        {
            throw new ArgumentException("At least one chat message is required.", nameof(messages));
        }

        if (options?.ToolMode is RequiredChatToolMode && options.Tools is not { Count: > 0 })
        {
            throw new ArgumentException("ChatOptions.ToolMode requires a tool call, but ChatOptions.Tools is empty.", nameof(options));
        }

        SamplerOptions sampler = CreateSamplerOptions(engine.Options, client, options);
        Tokenizer tokenizer = engine.Tokenizer;
        ToolCallFormat format = engine.ToolCallFormat;
        IList<AITool>? tools = options?.Tools is { Count: > 0 } t && options.ToolMode is not NoneChatToolMode && format != ToolCallFormat.None ? t : null;
        string forced = string.Empty;
        string[]? forcedNames = null;
        if (tools is not null && options!.ToolMode is RequiredChatToolMode required)
        {
            if (required.RequiredFunctionName is string name)
            {
                tools = tools.Where(x => x.Name == name).ToList();
                if (tools.Count == 0)
                {
                    throw new ArgumentException($"ToolMode requires the function '{name}', which is not among ChatOptions.Tools.", nameof(options));
                }
            }

            forced = ForcedStart(format, required.RequiredFunctionName);
            if (required.RequiredFunctionName is null && format is ToolCallFormat.Hermes or ToolCallFormat.Prompt or ToolCallFormat.Llama3)
            {
                // Any declared tool: the answer is forced up to the name, and the name is sampled among the declared ones.
                forced += format == ToolCallFormat.Llama3 ? string.Empty : "{\"name\": ";
                forcedNames = tools.Select(t => t.Name).ToArray();
            }
        }

        string? instructions = options?.Instructions;
        bool json = options?.ResponseFormat is ChatResponseFormatJson;
        if (options?.ResponseFormat is ChatResponseFormatJson { Schema: JsonElement schema } jsonFormat)
        {
            string hint = $"Answer with a JSON value that matches this JSON Schema{(jsonFormat.SchemaName is null ? string.Empty : $" ({jsonFormat.SchemaName})")}: {schema.GetRawText()}";
            instructions = string.IsNullOrEmpty(instructions) ? hint : instructions + "\n\n" + hint;
        }

        var input = new ChatTemplateInput(ChatPromptBuilder.BuildMessages(messages, instructions, format, tools))
        {
            Tools = format == ToolCallFormat.Prompt ? null : ChatPromptBuilder.BuildTools(tools),
            AddGenerationPrompt = true,
            BosToken = tokenizer.BosId >= 0 ? tokenizer.GetTokenText(tokenizer.BosId) : string.Empty,
            EosToken = tokenizer.EosId >= 0 ? tokenizer.GetTokenText(tokenizer.EosId) : string.Empty,
            TokenizerAddsBos = tokenizer.AddBos,
            TokenizerAddsEos = tokenizer.AddEos,
        };
        string text = engine.ChatTemplate.Render(input);
        var tokens = new List<int>(text.Length / 3 + 8);
        tokenizer.Encode(text, tokens, addSpecial: true, parseSpecial: true);
        if (forced.Length > 0)
        {
            tokenizer.Encode(forced, tokens, addSpecial: false, parseSpecial: true);
        }

        int context = engine.ContextLength;
        if (tokens.Count > context)
        {
            throw new ContextOverflowException(tokens.Count, context);
        }

        int? requested = options?.MaxOutputTokens;
        if (requested is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), requested, "ChatOptions.MaxOutputTokens must be positive.");
        }

        requested ??= engine.Options.MaxOutputTokens ?? int.MaxValue;

        // The last sampled token is never evaluated, so a full context still leaves room for one.
        int maxTokens = Math.Min(requested.Value, context - tokens.Count + 1);
        string[] stops = options?.StopSequences?.Where(s => !string.IsNullOrEmpty(s)).ToArray() ?? [];
        JsonElement? jsonSchema = (options?.ResponseFormat as ChatResponseFormatJson)?.Schema;
        ReasoningOutput reasoning = !ReasoningParser.IsReasoningTemplate(engine.ChatTemplate.Source) || forced.Length > 0
            ? ReasoningOutput.None
            : ReadReasoningOption(options);
        return new GenerationRequest(text, [.. tokens], sampler, maxTokens, stops, tools is null ? ToolCallFormat.None : format, forced, json, jsonSchema, forcedNames, reasoning);
    }

    /// <summary>The <see cref="TurboQuantChatClient.ReasoningProperty"/> option: "keep" (the default) or "hide"; anything else is refused.</summary>
    private static ReasoningOutput ReadReasoningOption(ChatOptions? options)
    {
        if (options?.AdditionalProperties is not { } extra || !extra.TryGetValue(TurboQuantChatClient.ReasoningProperty, out object? value) || value is null)
        {
            return ReasoningOutput.Keep;
        }

        string? text = value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            _ => null,
        };
        return text?.ToUpperInvariant() switch
        {
            "KEEP" => ReasoningOutput.Keep,
            "HIDE" => ReasoningOutput.Hide,
            _ => throw new ArgumentException(
                $"ChatOptions.AdditionalProperties[\"{TurboQuantChatClient.ReasoningProperty}\"] must be \"{TurboQuantChatClient.ReasoningKeep}\" or \"{TurboQuantChatClient.ReasoningHide}\", not '{value}'.",
                nameof(options)),
        };
    }

    private static SamplerOptions CreateSamplerOptions(TurboQuantChatOptions defaults, IChatClient client, ChatOptions? options)
    {
        var sampler = new SamplerOptions
        {
            Temperature = defaults.Temperature,
            TopP = defaults.TopP,
            TopK = defaults.TopK,
            MinP = defaults.MinP,
            RepeatPenalty = defaults.RepetitionPenalty,
            Seed = defaults.Seed is long defaultSeed ? unchecked((ulong)defaultSeed) : null,
        };
        if (options?.RawRepresentationFactory?.Invoke(client) is SamplerOptions raw)
        {
            sampler = raw.Clone();
        }

        if (options is not null)
        {
            if (options.Temperature is float t && (!float.IsFinite(t) || t < 0))
            {
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ChatOptions.Temperature is {t}; it must be a finite number >= 0 (0 is greedy)."), nameof(options));
            }

            sampler.Temperature = options.Temperature ?? sampler.Temperature;
            sampler.TopP = options.TopP ?? sampler.TopP;
            sampler.TopK = options.TopK ?? sampler.TopK;
            sampler.FrequencyPenalty = options.FrequencyPenalty ?? sampler.FrequencyPenalty;
            sampler.PresencePenalty = options.PresencePenalty ?? sampler.PresencePenalty;
            sampler.Seed = options.Seed is long seed ? unchecked((ulong)seed) : sampler.Seed;
            if (options.AdditionalProperties is { } extra)
            {
                if (extra.TryGetValue(TurboQuantChatClient.MinPProperty, out float minP))
                {
                    sampler.MinP = minP;
                }

                if (extra.TryGetValue(TurboQuantChatClient.RepeatPenaltyProperty, out float repeat))
                {
                    sampler.RepeatPenalty = repeat;
                }
            }
        }

        sampler.Validate();
        return sampler;
    }

    /// <summary>The start of an answer that can only continue as a tool call, in the model's syntax.</summary>
    private static string ForcedStart(ToolCallFormat format, string? name)
    {
        string nameJson = name is null ? string.Empty : JsonSerializer.Serialize(name, TqJsonContext.Default.String);
        return format switch
        {
            ToolCallFormat.Hermes => name is null ? "<tool_call>\n" : $"<tool_call>\n{{\"name\": {nameJson}, \"arguments\": ",
            ToolCallFormat.Prompt => name is null ? "```tool_call\n" : $"```tool_call\n{{\"name\": {nameJson}, \"arguments\": ",
            ToolCallFormat.Llama3 => name is null ? "{\"name\": " : $"{{\"name\": {nameJson}, \"parameters\": ",
            ToolCallFormat.Mistral => "[TOOL_CALLS]",
            _ => string.Empty,
        };
    }
}
