using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Tq.Core.Inference;
using Tq.Extensions.AI;

namespace Tq.SemanticKernel;

/// <summary>
/// Measures a conversation in prompt tokens exactly as the chat client will render it, and applies the
/// <see cref="ContextOverflowPolicy"/> when it does not fit.
/// </summary>
internal sealed class ContextWindow
{
    private const int MaxDefaultReserve = 256;

    public ContextWindow(TurboQuantEngine engine, TurboQuantContextOptions options)
    {
        options.Validate();
        Engine = engine;
        Options = options;
    }

    public TurboQuantEngine Engine { get; }

    public TurboQuantContextOptions Options { get; }

    /// <summary>The prompt tokens of <paramref name="messages"/> with <paramref name="options"/> (tools included).</summary>
    public int CountTokens(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        LoadEngine();

        // The client is only consulted for ChatOptions.RawRepresentationFactory; over a shared engine it owns nothing.
        using var client = new TurboQuantChatClient(Engine);
        return client.CountPromptTokens(messages, options);
    }

    /// <summary>The most prompt tokens a request may have: the context less the answer's reserve.</summary>
    public int Budget(ChatOptions? options)
    {
        LoadEngine();
        int context = Engine.ContextLength;
        int reserve = options?.MaxOutputTokens
            ?? Engine.Options.MaxOutputTokens
            ?? (Options.ReservedOutputTokens > 0 ? Options.ReservedOutputTokens : Math.Min(MaxDefaultReserve, context / 4));
        return Math.Max(1, context - Math.Clamp(reserve, 0, context - 1));
    }

    public TurboQuantKvCacheUsage Measure(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        int tokens = CountTokens(messages, options);
        TurboQuantEngineStatistics stats = Engine.GetStatistics();
        return new TurboQuantKvCacheUsage(
            tokens,
            stats.ContextLength,
            stats.KvCacheKind,
            tokens * stats.KvCacheBytesPerToken,
            tokens * stats.F16KvCacheBytesPerToken,
            stats.KvCacheBytes);
    }

    /// <summary>
    /// Makes the messages of one model call fit (a step of a tool loop, below SK's history): returns them unchanged when
    /// they fit, drops the oldest turns under <see cref="ContextOverflowPolicy.TruncateOldest"/>, and throws otherwise
    /// (the <see cref="ContextOverflowPolicy.Reduce"/> hook works on the <see cref="ChatHistory"/> before the call).
    /// </summary>
    public IEnumerable<ChatMessage> Fit(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        List<ChatMessage> list = [.. messages];
        int budget = Budget(options);
        int tokens = CountTokens(list, options);
        if (tokens <= budget)
        {
            return list;
        }

        return Options.OverflowPolicy switch
        {
            ContextOverflowPolicy.TruncateOldest => Truncate<ChatMessage>(list, m => m.Role == ChatRole.System, m => m.Role == ChatRole.User, l => CountTokens(l, options), tokens, budget),
            ContextOverflowPolicy.Reduce => throw Overflow(tokens, budget, "during a function-calling loop (the reducer runs on the chat history before each call, not between the tool steps of one call)"),
            _ => throw Overflow(tokens, budget, ThrowReason),
        };
    }

    /// <summary>Makes <paramref name="history"/> fit, changing it in place; returns whether it changed.</summary>
    public async Task<bool> FitAsync(ChatHistory history, ChatOptions? options, CancellationToken cancellationToken)
    {
        int budget = Budget(options);
        int tokens = CountTokens(ToMessages(history), options);
        if (tokens <= budget)
        {
            return false;
        }

        switch (Options.OverflowPolicy)
        {
            case ContextOverflowPolicy.TruncateOldest:
                Truncate<ChatMessageContent>(history, m => m.Role == AuthorRole.System, m => m.Role == AuthorRole.User, h => CountTokens(ToMessages(h), options), tokens, budget);
                return true;

            case ContextOverflowPolicy.Reduce:
                cancellationToken.ThrowIfCancellationRequested();
                ChatHistory reduced = await Options.Reducer!(history, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("The context reducer returned null.");
                if (!ReferenceEquals(reduced, history))
                {
                    ChatMessageContent[] copy = [.. reduced];
                    history.Clear();
                    history.AddRange(copy);
                }

                tokens = CountTokens(ToMessages(history), options);
                return tokens <= budget ? true : throw Overflow(tokens, budget, "after the reducer ran");

            default:
                throw Overflow(tokens, budget, ThrowReason);
        }
    }

    internal static IEnumerable<ChatMessage> ToMessages(IEnumerable<ChatMessageContent> history) => history.Select(m => m.ToChatMessage());

    /// <summary>
    /// Drops whole turns after the system messages, oldest first (a turn runs from its first message up to the next user
    /// message, so tool calls leave with their results), until the prompt fits; the last user turn is always kept.
    /// </summary>
    private IList<T> Truncate<T>(IList<T> list, Func<T, bool> isSystem, Func<T, bool> isUser, Func<IList<T>, int> count, int tokens, int budget)
    {
        while (tokens > budget)
        {
            int start = 0;
            while (start < list.Count && isSystem(list[start]))
            {
                start++;
            }

            int lastUser = -1;
            for (int i = list.Count - 1; i >= start; i--)
            {
                if (isUser(list[i]))
                {
                    lastUser = i;
                    break;
                }
            }

            if (lastUser <= start)
            {
                throw Overflow(tokens, budget, "even after dropping every older turn (the system messages and the last user turn are kept)");
            }

            int end = start + 1;
            while (end < lastUser && !isUser(list[end]))
            {
                end++;
            }

            for (int i = end - 1; i >= start; i--)
            {
                list.RemoveAt(i);
            }

            tokens = count(list);
        }

        return list;
    }

    private const string ThrowReason = "and ContextOverflowPolicy is Throw (set TruncateOldest or Reduce to shorten it automatically)";

    private ContextOverflowException Overflow(int tokens, int budget, string reason) =>
        new($"The conversation needs {tokens} prompt tokens but only {budget} fit ({Engine.ContextLength}-token context less {Engine.ContextLength - budget} reserved for the answer) {reason}.");

    private void LoadEngine()
    {
        if (!Engine.IsLoaded)
        {
            Engine.Load();
        }
    }
}
