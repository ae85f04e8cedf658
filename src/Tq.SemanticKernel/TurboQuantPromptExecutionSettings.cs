using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Tq.Extensions.AI;

namespace Tq.SemanticKernel;

/// <summary>
/// Execution settings of a TurboQuant chat completion. Unset (null) values fall back to the engine's
/// <see cref="TurboQuantChatOptions"/> defaults. The JSON names are the ones prompt templates and the other SK
/// connectors use (<c>max_tokens</c>, <c>temperature</c>, <c>stop_sequences</c>, ...).
/// </summary>
/// <remarks>
/// <see cref="BitsK"/> and <see cref="BitsV"/> belong to a loaded model's cache, not to a request: a request that names
/// bits other than its service's fails with an <see cref="ArgumentException"/>. Register one service id per cache
/// setting and pick it with <see cref="PromptExecutionSettings.ServiceId"/>.
/// </remarks>
public sealed class TurboQuantPromptExecutionSettings : PromptExecutionSettings
{
    private static readonly JsonTypeInfo<object?> s_anyValue = (JsonTypeInfo<object?>)AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(object));

    private int? _maxTokens;
    private float? _temperature;
    private float? _topP;
    private int? _topK;
    private float? _minP;
    private float? _repeatPenalty;
    private long? _seed;
    private IList<string>? _stopSequences;
    private float? _frequencyPenalty;
    private float? _presencePenalty;
    private float? _bitsK;
    private float? _bitsV;
    private string? _reasoning;

    /// <summary>The most tokens to generate.</summary>
    [JsonPropertyName("max_tokens")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxTokens { get => _maxTokens; set => Set(ref _maxTokens, value); }

    /// <summary>The sampling temperature; 0 is greedy.</summary>
    [JsonPropertyName("temperature")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? Temperature { get => _temperature; set => Set(ref _temperature, value); }

    /// <summary>The nucleus-sampling probability mass (1 disables it).</summary>
    [JsonPropertyName("top_p")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? TopP { get => _topP; set => Set(ref _topP, value); }

    /// <summary>The number of most likely tokens sampled from (0 disables it).</summary>
    [JsonPropertyName("top_k")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? TopK { get => _topK; set => Set(ref _topK, value); }

    /// <summary>Tokens less likely than this fraction of the most likely one are dropped (0 disables it).</summary>
    [JsonPropertyName("min_p")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? MinP { get => _minP; set => Set(ref _minP, value); }

    /// <summary>llama.cpp's repetition penalty (1 = none).</summary>
    [JsonPropertyName("repeat_penalty")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? RepeatPenalty { get => _repeatPenalty; set => Set(ref _repeatPenalty, value); }

    /// <summary>The sampling seed: the same seed, prompt and settings give the same answer.</summary>
    [JsonPropertyName("seed")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Seed { get => _seed; set => Set(ref _seed, value); }

    /// <summary>Texts that end the answer when generated (not included in it).</summary>
    [JsonPropertyName("stop_sequences")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IList<string>? StopSequences { get => _stopSequences; set => Set(ref _stopSequences, value); }

    /// <summary>The OpenAI-style frequency penalty.</summary>
    [JsonPropertyName("frequency_penalty")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? FrequencyPenalty { get => _frequencyPenalty; set => Set(ref _frequencyPenalty, value); }

    /// <summary>The OpenAI-style presence penalty.</summary>
    [JsonPropertyName("presence_penalty")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? PresencePenalty { get => _presencePenalty; set => Set(ref _presencePenalty, value); }

    /// <summary>The key bits the serving engine must use (checked, not applied: see the remarks).</summary>
    [JsonPropertyName("bits_k")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? BitsK { get => _bitsK; set => Set(ref _bitsK, value); }

    /// <summary>The value bits the serving engine must use (checked, not applied: see the remarks).</summary>
    [JsonPropertyName("bits_v")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? BitsV { get => _bitsV; set => Set(ref _bitsV, value); }

    /// <summary>
    /// What to do with a reasoning model's <c>&lt;think&gt;</c> block: <c>"keep"</c> (the default) returns it as
    /// <see cref="ReasoningContent"/> items (<see cref="StreamingReasoningContent"/> when streaming), apart from the
    /// answer's text; <c>"hide"</c> drops it. Maps to <see cref="TurboQuantChatClient.ReasoningProperty"/>.
    /// </summary>
    [JsonPropertyName("reasoning")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reasoning { get => _reasoning; set => Set(ref _reasoning, value); }

    /// <summary>
    /// Converts any execution settings to TurboQuant ones: returns the instance itself when it already is one, otherwise
    /// maps its JSON (its own properties and <see cref="PromptExecutionSettings.ExtensionData"/>) onto the names above and
    /// keeps its service id, model id and <see cref="PromptExecutionSettings.FunctionChoiceBehavior"/>.
    /// </summary>
    /// <param name="executionSettings">The settings; null gives empty settings.</param>
    /// <returns>TurboQuant settings.</returns>
    /// <exception cref="ArgumentException">The settings hold a value of the wrong type for one of the names above.</exception>
    public static TurboQuantPromptExecutionSettings FromExecutionSettings(PromptExecutionSettings? executionSettings)
    {
        switch (executionSettings)
        {
            case null:
                return new TurboQuantPromptExecutionSettings();
            case TurboQuantPromptExecutionSettings settings:
                return settings;
        }

        TurboQuantPromptExecutionSettings? result;
        try
        {
            string json = ToJson(executionSettings);
            result = JsonSerializer.Deserialize(json, TurboQuantSettingsJsonContext.Default.TurboQuantPromptExecutionSettings);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The execution settings cannot be read as TurboQuant settings: {e.Message}", nameof(executionSettings), e);
        }

        result ??= new TurboQuantPromptExecutionSettings();
        result.ServiceId = executionSettings.ServiceId;
        result.ModelId = executionSettings.ModelId;
        result.FunctionChoiceBehavior = executionSettings.FunctionChoiceBehavior;
        return result;
    }

    /// <summary>
    /// The JSON of any settings: SK's own base type (what prompt templates and most callers give) is written from its
    /// <see cref="PromptExecutionSettings.ExtensionData"/> without reflection; another connector's settings type is
    /// serialized as its runtime type, which needs reflection-based JSON and so is refused in trimmed and AOT apps.
    /// </summary>
    private static string ToJson(PromptExecutionSettings settings)
    {
        if (settings.GetType() == typeof(PromptExecutionSettings))
        {
            var json = new JsonObject();
            foreach (KeyValuePair<string, object> entry in settings.ExtensionData ?? new Dictionary<string, object>())
            {
                json[entry.Key] = JsonSerializer.SerializeToNode(entry.Value, s_anyValue);
            }

            return json.ToJsonString();
        }

        if (!JsonSerializer.IsReflectionEnabledByDefault)
        {
            throw new NotSupportedException(
                $"Execution settings of type {settings.GetType().Name} cannot be converted without reflection-based JSON (disabled in this app): " +
                $"pass {nameof(TurboQuantPromptExecutionSettings)} or a plain {nameof(PromptExecutionSettings)}.");
        }

        return SerializeWithReflection(settings);
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reached only when reflection-based JSON is enabled (never in trimmed or AOT apps, where the feature switch removes it).")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reached only when reflection-based JSON is enabled (never in trimmed or AOT apps, where the feature switch removes it).")]
    private static string SerializeWithReflection(PromptExecutionSettings settings) =>
        // Serialized as its runtime type, so another connector's strongly typed settings carry over too.
        JsonSerializer.Serialize(settings, settings.GetType());

    /// <inheritdoc />
    public override PromptExecutionSettings Clone() => new TurboQuantPromptExecutionSettings
    {
        ModelId = ModelId,
        ServiceId = ServiceId,
        FunctionChoiceBehavior = FunctionChoiceBehavior,
        ExtensionData = ExtensionData is null ? null : new Dictionary<string, object>(ExtensionData),
        MaxTokens = MaxTokens,
        Temperature = Temperature,
        TopP = TopP,
        TopK = TopK,
        MinP = MinP,
        RepeatPenalty = RepeatPenalty,
        Seed = Seed,
        StopSequences = StopSequences is null ? null : [.. StopSequences],
        FrequencyPenalty = FrequencyPenalty,
        PresencePenalty = PresencePenalty,
        BitsK = BitsK,
        BitsV = BitsV,
        Reasoning = Reasoning,
    };

    /// <inheritdoc />
    public override void Freeze()
    {
        if (IsFrozen)
        {
            return;
        }

        base.Freeze();
        if (_stopSequences is not null)
        {
            _stopSequences = _stopSequences.AsReadOnly();
        }
    }

    /// <summary>
    /// Gives the client's own property types to the values SK's JSON round trip would leave as doubles
    /// (<c>min_p</c>, <c>repeat_penalty</c>), names <c>reasoning</c> with the client's key, and drops the bits, which are checked by the service, not sent.
    /// </summary>
    /// <param name="options">The options built for the request.</param>
    protected override void PrepareChatOptionsForRequest(ChatOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        base.PrepareChatOptionsForRequest(options);
        if (options.AdditionalProperties is { } extra)
        {
            extra.Remove("bits_k");
            extra.Remove("bits_v");
            extra.Remove(TurboQuantChatClient.MinPProperty);
            extra.Remove(TurboQuantChatClient.RepeatPenaltyProperty);
            extra.Remove("reasoning");
        }

        if (Reasoning is string reasoning)
        {
            (options.AdditionalProperties ??= [])[TurboQuantChatClient.ReasoningProperty] = reasoning;
        }

        if (MinP is float minP)
        {
            (options.AdditionalProperties ??= [])[TurboQuantChatClient.MinPProperty] = minP;
        }

        if (RepeatPenalty is float repeat)
        {
            (options.AdditionalProperties ??= [])[TurboQuantChatClient.RepeatPenaltyProperty] = repeat;
        }
    }

    private void Set<T>(ref T field, T value)
    {
        ThrowIfFrozen();
        field = value;
    }
}
