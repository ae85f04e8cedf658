using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Tq.Core.Inference;
using Tq.Extensions.AI;

namespace Tq.SemanticKernel.Tests;

/// <summary>The context-overflow policies on a 256-token window of the real model.</summary>
public sealed class ContextPolicyTests : IDisposable
{
    private const string LastQuestion = "What is your name?";
    private static readonly TurboQuantPromptExecutionSettings s_settings = new() { Temperature = 0, MaxTokens = 8 };

    private readonly TurboQuantEngine _engine = SkModels.CreateEngine(context: 256);

    public void Dispose() => _engine.Dispose();

    [Fact]
    public async Task GetChatMessageContentsAsync_ThrowPolicy_ThrowsAndKeepsHistory()
    {
        var service = new TurboQuantChatCompletionService(_engine);
        ChatHistory history = LongHistory();
        int count = history.Count;

        var e = await Assert.ThrowsAsync<ContextOverflowException>(() => service.GetChatMessageContentsAsync(history, s_settings));

        Assert.Contains("ContextOverflowPolicy is Throw", e.Message, StringComparison.Ordinal);
        Assert.Contains("256-token context", e.Message, StringComparison.Ordinal);
        Assert.Equal(count, history.Count);
    }

    [Fact]
    public async Task GetChatMessageContentsAsync_TruncateOldest_DropsOldTurnsKeepsSystemAndLastUser()
    {
        var service = new TurboQuantChatCompletionService(_engine, new TurboQuantContextOptions { OverflowPolicy = ContextOverflowPolicy.TruncateOldest });
        ChatHistory history = LongHistory();
        int count = history.Count;

        ChatMessageContent answer = await service.GetChatMessageContentAsync(history, s_settings);

        Assert.InRange(history.Count, 2, count - 1);
        Assert.Equal(AuthorRole.System, history[0].Role);
        Assert.Equal(AuthorRole.User, history[1].Role); // whole turns go: the history still starts with a user turn
        Assert.Equal(LastQuestion, history[^1].Content);
        Assert.True(service.GetKvCacheUsage(history).Tokens <= 256 - 8);
        Assert.NotNull(answer.Content);
    }

    [Fact]
    public async Task GetChatMessageContentsAsync_Reducer_IsCalledAndItsHistoryUsed()
    {
        int calls = 0;
        var options = new TurboQuantContextOptions
        {
            OverflowPolicy = ContextOverflowPolicy.Reduce,
            Reducer = (history, _) =>
            {
                calls++;
                var reduced = new ChatHistory();
                reduced.AddSystemMessage("You are a helpful assistant. Earlier, the user told you about their day.");
                reduced.Add(history[^1]);
                return Task.FromResult(reduced);
            },
        };
        var service = new TurboQuantChatCompletionService(_engine, options);
        ChatHistory history = LongHistory();

        await service.GetChatMessageContentAsync(history, s_settings);

        Assert.Equal(1, calls);
        Assert.Equal(2, history.Count);
        Assert.Contains("Earlier", history[0].Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetChatMessageContentsAsync_ReducerResultTooLong_Throws()
    {
        var options = new TurboQuantContextOptions { OverflowPolicy = ContextOverflowPolicy.Reduce, Reducer = (history, _) => Task.FromResult(history) };
        var service = new TurboQuantChatCompletionService(_engine, options);

        var e = await Assert.ThrowsAsync<ContextOverflowException>(() => service.GetChatMessageContentsAsync(LongHistory(), s_settings));

        Assert.Contains("after the reducer ran", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatClient_TruncateOldest_SendsTheModelOnlyWhatFits()
    {
        CapturingChatClient? capture = null;
        var service = new TurboQuantChatCompletionService(
            _engine, new TurboQuantContextOptions { OverflowPolicy = ContextOverflowPolicy.TruncateOldest }, null, null, inner => capture = new CapturingChatClient(inner));
        List<ChatMessage> messages = [.. LongHistory().Select(m => m.ToChatMessage())];

        ChatResponse response = await service.ChatClient.GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = 8 });

        List<ChatMessage> sent = capture!.Calls[0].Messages;
        Assert.InRange(sent.Count, 2, messages.Count - 1);
        Assert.Equal(ChatRole.System, sent[0].Role);
        Assert.Equal(LastQuestion, sent[^1].Text);
        Assert.NotNull(response.Text);
    }

    [Fact]
    public void Constructor_ReducePolicyWithoutReducer_ThrowsArgumentException()
    {
        var e = Assert.Throws<ArgumentException>(() => new TurboQuantChatCompletionService(_engine, new TurboQuantContextOptions { OverflowPolicy = ContextOverflowPolicy.Reduce }));

        Assert.Contains("Reducer", e.Message, StringComparison.Ordinal);
    }

    private static ChatHistory LongHistory()
    {
        var history = new ChatHistory();
        history.AddSystemMessage("You are a helpful assistant.");
        for (int i = 0; i < 6; i++)
        {
            history.AddUserMessage($"Turn {i}: today I walked to the park, saw a big dog and a small cat, and then went home for tea.");
            history.AddAssistantMessage("That sounds like a lovely day with the dog and the cat in the park.");
        }

        history.AddUserMessage(LastQuestion);
        return history;
    }
}
