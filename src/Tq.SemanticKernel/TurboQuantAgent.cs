using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Tq.SemanticKernel;

/// <summary>
/// A small conversational agent on Semantic Kernel Core: instructions, a kernel whose plugins it may call (auto
/// function calling), and the conversation it keeps. Each <see cref="InvokeAsync"/> adds the user's message, lets the
/// model call functions until it answers, and keeps every message (tool calls and results included) in
/// <see cref="History"/>.
/// </summary>
/// <remarks>
/// Not an implementation of SK's Agents framework (its packages are not used here). One conversation: calls on one
/// agent must not overlap. A failed or cancelled turn is rolled back, leaving <see cref="History"/> as it was before it.
/// With a <see cref="TurboQuantChatCompletionService"/>, the history is kept inside the context window by its
/// <see cref="ContextOverflowPolicy"/>.
/// </remarks>
public sealed class TurboQuantAgent
{
    private bool _instructionsAdded;

    /// <summary>Creates an agent over <paramref name="kernel"/>'s chat completion service.</summary>
    /// <param name="kernel">The kernel: its <see cref="IChatCompletionService"/> and the plugins offered to the model.</param>
    /// <param name="serviceId">The service id of the chat completion service; null uses the default.</param>
    public TurboQuantAgent(Kernel kernel, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        Kernel = kernel;
        ServiceId = serviceId;
    }

    /// <summary>The agent's name, written as the author of its answers.</summary>
    public string? Name { get; init; }

    /// <summary>The system instructions, placed first in the history on the first turn.</summary>
    public string? Instructions { get; init; }

    /// <summary>The kernel whose plugins the model may call.</summary>
    public Kernel Kernel { get; }

    /// <summary>The service id of the chat completion service used.</summary>
    public string? ServiceId { get; }

    /// <summary>The conversation so far.</summary>
    public ChatHistory History { get; } = [];

    /// <summary>The settings of every turn; by default the kernel's functions are auto-invoked.</summary>
    public PromptExecutionSettings ExecutionSettings { get; init; } = new TurboQuantPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };

    /// <summary>The chat completion service the agent talks to.</summary>
    public IChatCompletionService ChatCompletion => Kernel.GetRequiredService<IChatCompletionService>(ServiceId);

    /// <summary>Runs one turn: adds <paramref name="input"/>, calls functions as the model asks, returns the answer.</summary>
    /// <param name="input">The user's message.</param>
    /// <param name="cancellationToken">Stops the turn (the history is rolled back).</param>
    /// <returns>The agent's answer, also added to <see cref="History"/>.</returns>
    public async Task<ChatMessageContent> InvokeAsync(string input, CancellationToken cancellationToken = default)
    {
        int mark = BeginTurn(input);
        try
        {
            IReadOnlyList<ChatMessageContent> results = await ChatCompletion
                .GetChatMessageContentsAsync(History, ExecutionSettings, Kernel, cancellationToken).ConfigureAwait(false);
            ChatMessageContent answer = results.Count > 0 ? results[^1] : new ChatMessageContent(AuthorRole.Assistant, string.Empty);
            answer.AuthorName ??= Name;
            History.Add(answer);
            return answer;
        }
        catch
        {
            Rollback(mark);
            throw;
        }
    }

    /// <summary>Runs one turn, streaming the answer; the whole answer is added to <see cref="History"/> at the end.</summary>
    /// <param name="input">The user's message.</param>
    /// <param name="cancellationToken">Stops the turn (the history is rolled back).</param>
    /// <returns>The pieces of the answer as they are generated.</returns>
    public async IAsyncEnumerable<StreamingChatMessageContent> InvokeStreamingAsync(string input, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        int mark = BeginTurn(input);
        bool completed = false;
        var text = new StringBuilder();
        try
        {
            await foreach (StreamingChatMessageContent update in ChatCompletion
                .GetStreamingChatMessageContentsAsync(History, ExecutionSettings, Kernel, cancellationToken).ConfigureAwait(false))
            {
                text.Append(update.Content);
                update.AuthorName ??= Name;
                yield return update;
            }

            History.Add(new ChatMessageContent(AuthorRole.Assistant, text.ToString()) { AuthorName = Name });
            completed = true;
        }
        finally
        {
            if (!completed)
            {
                Rollback(mark);
            }
        }
    }

    /// <summary>Measures the conversation: prompt tokens and KV-cache memory, TurboQuant against FP16.</summary>
    /// <returns>The usage of <see cref="History"/> with the agent's settings and plugins.</returns>
    /// <exception cref="InvalidOperationException">The agent's service is not a <see cref="TurboQuantChatCompletionService"/>.</exception>
    public TurboQuantKvCacheUsage GetKvCacheUsage() => ChatCompletion is TurboQuantChatCompletionService service
        ? service.GetKvCacheUsage(History, ExecutionSettings, Kernel)
        : throw new InvalidOperationException("The agent's chat completion service is not a TurboQuantChatCompletionService.");

    private int BeginTurn(string input)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        if (!_instructionsAdded && !string.IsNullOrEmpty(Instructions))
        {
            History.Insert(0, new ChatMessageContent(AuthorRole.System, Instructions));
        }

        _instructionsAdded = true;
        int mark = History.Count;
        History.AddUserMessage(input);
        return mark;
    }

    private void Rollback(int mark)
    {
        // The context policy may have shortened the history during the turn: roll back what is still there.
        int keep = Math.Min(mark, History.Count);
        if (History.Count > keep)
        {
            History.RemoveRange(keep, History.Count - keep);
        }
    }
}
