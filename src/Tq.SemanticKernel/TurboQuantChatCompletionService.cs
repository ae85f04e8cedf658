using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Tq.Extensions.AI;

namespace Tq.SemanticKernel;

/// <summary>
/// Semantic Kernel chat completion over a local TurboQuant model: SK's own service over the
/// <see cref="TurboQuantChatClient"/> (<c>AsChatCompletionService()</c>), with SK's function invocation
/// (<c>UseKernelFunctionInvocation()</c>, so auto-invocation filters run) and the context-window policy.
/// </summary>
/// <remarks>
/// <para>Before a call the history is measured in prompt tokens and, if it does not fit, shortened in place by the
/// <see cref="ContextOverflowPolicy"/>; each model call of an auto function-calling loop is checked again.</para>
/// <para>Non-streaming results carry a <see cref="TurboQuantKvCacheUsage"/> in their metadata under
/// <see cref="TurboQuantKvCacheUsage.MetadataKey"/>; <see cref="GetKvCacheUsage"/> measures any history.</para>
/// </remarks>
public sealed class TurboQuantChatCompletionService : IChatCompletionService
{
    private readonly IChatCompletionService _inner;
    private readonly ContextWindow _window;

    /// <summary>Creates the service on a shared engine (not disposed by the service).</summary>
    /// <param name="engine">The loaded-model holder, typically shared with other registrations.</param>
    /// <param name="contextOptions">The context-window policy; null throws on overflow.</param>
    /// <param name="loggerFactory">Logs SK's function invocations; optional.</param>
    /// <param name="serviceProvider">Services for the client pipeline; optional.</param>
    /// <exception cref="ArgumentException">The context options are invalid.</exception>
    public TurboQuantChatCompletionService(
        TurboQuantEngine engine,
        TurboQuantContextOptions? contextOptions = null,
        ILoggerFactory? loggerFactory = null,
        IServiceProvider? serviceProvider = null)
        : this(engine, contextOptions, loggerFactory, serviceProvider, null)
    {
    }

    // decorate wraps the TurboQuant client below the context guard: tests capture what the client receives.
    internal TurboQuantChatCompletionService(
        TurboQuantEngine engine,
        TurboQuantContextOptions? contextOptions,
        ILoggerFactory? loggerFactory,
        IServiceProvider? serviceProvider,
        Func<IChatClient, IChatClient>? decorate)
    {
        ArgumentNullException.ThrowIfNull(engine);
        Engine = engine;
        _window = new ContextWindow(engine, contextOptions?.Clone() ?? new TurboQuantContextOptions());
        ChatClient = CreateChatClient(engine, _window, loggerFactory, serviceProvider, decorate);
        _inner = ChatClient.AsChatCompletionService(serviceProvider);
        Attributes = new Dictionary<string, object?>
        {
            ["ModelId"] = engine.ModelId,
            ["bits_k"] = engine.Options.BitsK,
            ["bits_v"] = engine.Options.BitsV,
            ["kv_cache_kind"] = engine.KvCache.Kind.ToString(),
        };
    }

    /// <summary>The engine the service runs on.</summary>
    public TurboQuantEngine Engine { get; }

    /// <summary>The client pipeline the service calls: reasoning pass-through, function invocation, context guard, tool-name resolution, TurboQuant client.</summary>
    public IChatClient ChatClient { get; }

    /// <summary>The context-window policy in use.</summary>
    public TurboQuantContextOptions ContextOptions => _window.Options;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, object?> Attributes { get; }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ChatMessageContent>> GetChatMessageContentsAsync(
        ChatHistory chatHistory,
        PromptExecutionSettings? executionSettings = null,
        Kernel? kernel = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        TurboQuantPromptExecutionSettings settings = await PrepareAsync(chatHistory, executionSettings, kernel, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<ChatMessageContent> results = await _inner.GetChatMessageContentsAsync(chatHistory, settings, kernel, cancellationToken).ConfigureAwait(false);
        foreach (ChatMessageContent result in results)
        {
            // The answer is measured as the next prompt would hold it: the history with this reply appended.
            TurboQuantKvCacheUsage usage = _window.Measure([.. ContextWindow.ToMessages(chatHistory), result.ToChatMessage()], null);
            var metadata = result.Metadata is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(result.Metadata);
            metadata[TurboQuantKvCacheUsage.MetadataKey] = usage;
            result.Metadata = metadata;
            AddReasoning(result);
        }

        return results;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StreamingChatMessageContent> GetStreamingChatMessageContentsAsync(
        ChatHistory chatHistory,
        PromptExecutionSettings? executionSettings = null,
        Kernel? kernel = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        TurboQuantPromptExecutionSettings settings = await PrepareAsync(chatHistory, executionSettings, kernel, cancellationToken).ConfigureAwait(false);
        await foreach (StreamingChatMessageContent update in _inner.GetStreamingChatMessageContentsAsync(chatHistory, settings, kernel, cancellationToken).ConfigureAwait(false))
        {
            AddReasoning(update);
            yield return update;
        }
    }

    /// <summary>Measures <paramref name="chatHistory"/> as a prompt: its tokens and the KV-cache memory they take, TurboQuant against FP16.</summary>
    /// <param name="chatHistory">The conversation.</param>
    /// <param name="executionSettings">The settings whose tools are declared in the prompt; optional.</param>
    /// <param name="kernel">The kernel whose functions the settings offer; optional.</param>
    /// <returns>The usage (loads the model if needed).</returns>
    public TurboQuantKvCacheUsage GetKvCacheUsage(ChatHistory chatHistory, PromptExecutionSettings? executionSettings = null, Kernel? kernel = null)
    {
        ArgumentNullException.ThrowIfNull(chatHistory);
        ChatOptions? options = TurboQuantPromptExecutionSettings.FromExecutionSettings(executionSettings).ToChatOptions(kernel);
        return _window.Measure(ContextWindow.ToMessages(chatHistory), options);
    }

    /// <summary>A snapshot of the engine's sessions and KV-cache memory.</summary>
    /// <returns>The engine statistics.</returns>
    public TurboQuantEngineStatistics GetStatistics() => Engine.GetStatistics();

    /// <summary>
    /// SK's adapter drops M.E.AI's <see cref="TextReasoningContent"/>; it becomes SK's own reasoning item here, so a
    /// reasoning model's <c>&lt;think&gt;</c> block reaches SK callers apart from the answer's text.
    /// </summary>
    private static void AddReasoning(ChatMessageContent result)
    {
        IEnumerable<AIContent> contents = result.InnerContent switch
        {
            ChatResponse response => response.Messages.SelectMany(m => m.Contents),
            ChatMessage message => message.Contents,
            _ => [],
        };
        string reasoning = string.Concat(contents.OfType<TextReasoningContent>().Select(r => r.Text));
        if (reasoning.Length > 0 && !result.Items.OfType<ReasoningContent>().Any())
        {
            result.Items.Insert(0, new ReasoningContent(reasoning));
        }
    }

    private static void AddReasoning(StreamingChatMessageContent update)
    {
        if (update.InnerContent is ChatResponseUpdate inner)
        {
            foreach (TextReasoningContent reasoning in inner.Contents.OfType<TextReasoningContent>())
            {
                update.Items.Add(new StreamingReasoningContent(reasoning.Text));
            }
        }
    }

    private static IChatClient CreateChatClient(TurboQuantEngine engine, ContextWindow window, ILoggerFactory? loggerFactory, IServiceProvider? serviceProvider, Func<IChatClient, IChatClient>? decorate) =>
        (decorate ?? (c => c)).Invoke(new TurboQuantChatClient(engine))
            .AsBuilder()
            .Use(inner => new ReasoningPassthroughChatClient(inner))
            .UseKernelFunctionInvocation(loggerFactory)
            .Use(inner => new ContextGuardChatClient(inner, window))
            .Use(inner => new ToolNameResolvingChatClient(inner))
            .Build(serviceProvider);

    private async Task<TurboQuantPromptExecutionSettings> PrepareAsync(ChatHistory chatHistory, PromptExecutionSettings? executionSettings, Kernel? kernel, CancellationToken cancellationToken)
    {
        TurboQuantPromptExecutionSettings settings = TurboQuantPromptExecutionSettings.FromExecutionSettings(executionSettings);
        CheckBits(settings.BitsK, Engine.Options.BitsK, "bits_k");
        CheckBits(settings.BitsV, Engine.Options.BitsV, "bits_v");
        await _window.FitAsync(chatHistory, settings.ToChatOptions(kernel), cancellationToken).ConfigureAwait(false);
        return settings;
    }

    private void CheckBits(float? requested, float actual, string name)
    {
        if (requested is float bits && bits != actual)
        {
#pragma warning disable CA2208 // The settings argument of the public caller is the one at fault.
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The execution settings ask for {name} = {bits}, but this service's model '{Engine.ModelId}' caches with {name} = {actual}. Register a service id with those bits and select it with ServiceId."),
                "executionSettings");
#pragma warning restore CA2208
        }
    }
}
