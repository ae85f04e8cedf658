using System.Text.Json;
using Microsoft.Extensions.AI;
using Tq.Core.Sampling;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>The chat client on the real tq-chat-5m model, against llama.cpp's renderings and greedy replies.</summary>
public sealed class TurboQuantChatClientTests : IDisposable
{
    private readonly TurboQuantChatClient _client = ChatModels.CreateClient();

    public static TheoryData<string> Conversations => new(ChatReference.ConversationNames);

    public static TheoryData<string> Completions => new(ChatReference.Root.GetProperty("chat_completions").EnumerateObject().Select(p => p.Name));

    public void Dispose() => _client.Dispose();

    [Theory]
    [MemberData(nameof(Conversations))]
    public void Render_ReferenceConversation_EqualsLlamaCppRendering(string name)
    {
        var options = new ChatOptions { Tools = ChatReference.Tools(name) };

        GenerationRequest request = GenerationRequest.Create(_client.Engine, _client, ChatReference.Messages(name), options);

        Assert.Equal(ChatReference.Rendering(name), request.PromptText);
    }

    [Theory]
    [MemberData(nameof(Completions))]
    public async Task GetResponseAsync_Greedy_MatchesLlamaCppReply(string name)
    {
        JsonElement expected = ChatReference.Completion(name);
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 64, Tools = ChatReference.Tools(name) };

        ChatResponse response = await _client.GetResponseAsync(ChatReference.Messages(name), options);

        JsonElement message = expected.GetProperty("message");
        Assert.Equal(expected.GetProperty("finish_reason").GetString(), response.FinishReason?.Value);
        Assert.Equal(expected.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), response.Usage?.InputTokenCount);
        if (message.TryGetProperty("tool_calls", out JsonElement calls))
        {
            FunctionCallContent call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            JsonElement function = calls[0].GetProperty("function");
            Assert.Equal(function.GetProperty("name").GetString(), call.Name);
            Assert.Equal(
                JsonSerializer.Deserialize<Dictionary<string, string?>>(function.GetProperty("arguments").GetString()!),
                call.Arguments!.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()));
            Assert.Equal(string.Empty, response.Text);
        }
        else
        {
            Assert.Equal(message.GetProperty("content").GetString(), response.Text);
        }
    }

    [Fact]
    public async Task GetResponseAsync_Greedy_OutputTokensCountTheReplyAndTheEndToken()
    {
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 64 };

        ChatResponse response = await _client.GetResponseAsync(ChatReference.Messages("simple"), options);

        int replyTokens = _client.Engine.Tokenizer.Encode(response.Text, addSpecial: false).Length;
        Assert.Equal(replyTokens + 1, response.Usage!.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
    }

    [Theory]
    [InlineData(0f, 7L)]
    [InlineData(0.8f, 7L)]
    [InlineData(1.2f, 123456789L)]
    public async Task GetStreamingResponseAsync_SameSeed_EqualsGetResponseAsync(float temperature, long seed)
    {
        var options = new ChatOptions { Temperature = temperature, Seed = seed, MaxOutputTokens = 48 };
        List<ChatMessage> messages = [new(ChatRole.User, "Tell me a story about a cat.")];

        ChatResponse response = await _client.GetResponseAsync(messages, options);
        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in _client.GetStreamingResponseAsync(messages, options))
        {
            updates.Add(update);
        }

        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.All(updates, u =>
        {
            Assert.NotNull(u.ResponseId);
            Assert.NotNull(u.MessageId);
            Assert.NotNull(u.CreatedAt);
            Assert.Equal(_client.Engine.ModelId, u.ModelId);
            Assert.Equal(ChatRole.Assistant, u.Role);
        });
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
        Assert.NotNull(updates[^1].FinishReason);
        Assert.All(updates.Take(updates.Count - 1), u => Assert.Null(u.FinishReason));
        UsageContent usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
        Assert.Equal(response.Usage!.OutputTokenCount, usage.Details.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount, usage.Details.InputTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_OneUpdatePerDecodedToken()
    {
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 64 };
        var texts = new List<string>();
        UsageDetails? usage = null;
        await foreach (ChatResponseUpdate update in _client.GetStreamingResponseAsync(ChatReference.Messages("simple"), options))
        {
            if (update.Text.Length > 0)
            {
                texts.Add(update.Text);
            }

            usage ??= update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
        }

        // Every generated token but the end token decodes to a non-empty ASCII piece on this vocabulary.
        Assert.Equal(usage!.OutputTokenCount - 1, texts.Count);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_CancelledMidStream_StopsWithinOneToken()
    {
        using var cts = new CancellationTokenSource();
        var options = new ChatOptions { Temperature = 0.8f, Seed = 1, MaxOutputTokens = 200 };
        List<ChatMessage> messages = [new(ChatRole.User, "Tell me a long story about a dog and a ball.")];
        int prompt = GenerationRequest.Create(_client.Engine, _client, messages, options).Prompt.Length;
        int seen = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ChatResponseUpdate update in _client.GetStreamingResponseAsync(messages, options, cts.Token))
            {
                if (++seen == 5)
                {
                    cts.Cancel();
                }
            }
        });

        Assert.Equal(5, seen);
        PooledSession session = Assert.Single(IdleSessions());

        // Five tokens were sampled (one per update); the fifth was never evaluated, and nothing ran after the cancel.
        Assert.Equal(prompt + 4, session.Session.Length);
    }

    [Fact]
    public async Task GetResponseAsync_SecondTurn_ReusesTheFirstTurnsCache()
    {
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 32 };
        List<ChatMessage> history = [new(ChatRole.System, "You are a helpful assistant."), new(ChatRole.User, "Hi, my name is Lily.")];

        ChatResponse first = await _client.GetResponseAsync(history, options);
        history.AddMessages(first);
        history.Add(new ChatMessage(ChatRole.User, "What is my name?"));
        ChatResponse second = await _client.GetResponseAsync(history, options);

        Assert.Equal(0, first.Usage!.CachedInputTokenCount);
        Assert.True(second.Usage!.CachedInputTokenCount >= first.Usage.InputTokenCount, $"cached {second.Usage.CachedInputTokenCount} < first prompt {first.Usage.InputTokenCount}");
        long prefilled = second.Usage.InputTokenCount!.Value - second.Usage.CachedInputTokenCount!.Value;
        Assert.InRange(prefilled, 1, second.Usage.InputTokenCount.Value - first.Usage.InputTokenCount!.Value);
    }

    [Fact]
    public async Task GetResponseAsync_MaxOutputTokens_StopsWithLength()
    {
        var options = new ChatOptions { Temperature = 0.8f, Seed = 3, MaxOutputTokens = 5 };

        ChatResponse response = await _client.GetResponseAsync("Tell me a long story.", options);

        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(5, response.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_StopSequence_CutsBeforeIt()
    {
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 64, StopSequences = ["small"] };

        ChatResponse response = await _client.GetResponseAsync(ChatReference.Messages("simple"), options);

        Assert.Equal("I am a ", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_Instructions_RenderedAsSystemMessage()
    {
        var options = new ChatOptions { Instructions = "You are a helpful assistant.", Temperature = 0, MaxOutputTokens = 64 };

        ChatResponse withInstructions = await _client.GetResponseAsync("Hello! Who are you?", options);

        Assert.Equal(ChatReference.Completion("simple").GetProperty("message").GetProperty("content").GetString(), withInstructions.Text);
    }

    [Fact]
    public async Task GetResponseAsync_RequiredSpecificFunction_CallsIt()
    {
        var options = new ChatOptions
        {
            Temperature = 0,
            MaxOutputTokens = 64,
            Tools = [AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Get the weather"), AIFunctionFactory.Create(() => 3, "get_time", "Get the time")],
            ToolMode = ChatToolMode.RequireSpecific("get_time"),
        };

        ChatResponse response = await _client.GetResponseAsync("Hello!", options);

        FunctionCallContent call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_time", call.Name);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_ToolModeNone_RendersNoTools()
    {
        var options = new ChatOptions { Tools = ChatReference.Tools("tools_first_turn"), ToolMode = ChatToolMode.None, Temperature = 0, MaxOutputTokens = 8 };

        GenerationRequest request = GenerationRequest.Create(_client.Engine, _client, ChatReference.Messages("tools_first_turn"), options);
        ChatResponse response = await _client.GetResponseAsync(ChatReference.Messages("tools_first_turn"), options);

        Assert.DoesNotContain("<tools>", request.PromptText, StringComparison.Ordinal);
        Assert.Empty(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    public async Task GetResponseAsync_JsonMode_OutputIsJson(long seed)
    {
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.Json, Temperature = 0.8f, Seed = seed, MaxOutputTokens = 80 };

        ChatResponse response = await _client.GetResponseAsync("Describe a cat as JSON.", options);

        Assert.True(JsonConstraint.IsValidPrefix(response.Text, out bool complete), response.Text);
        if (response.FinishReason == ChatFinishReason.Stop)
        {
            Assert.True(complete, response.Text);
            using JsonDocument document = JsonDocument.Parse(response.Text);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }
    }

    [Theory]
    [InlineData("{\"a\": [1, -2.5e3, true, null, \"x\\n\\u00e9\"]}", true, true)]
    [InlineData("{\"a\": {\"b\": []}, \"c\": 0}", true, true)]
    [InlineData("{\"a\": 01}", false, false)]
    [InlineData("{\"a\" 1}", false, false)]
    [InlineData("{\"a\": [1,]}", false, false)]
    [InlineData("{\"a\":  1}", false, false)]
    [InlineData("{\"a\": tru", true, false)]
    [InlineData("[1]", false, false)]
    [InlineData("{} ", false, false)]
    public void IsValidPrefix_Text_Classified(string text, bool valid, bool complete)
    {
        Assert.Equal(valid, JsonConstraint.IsValidPrefix(text, out bool isComplete));
        Assert.Equal(complete, isComplete);
    }

    [Fact]
    public async Task GetResponseAsync_RawRepresentationFactory_StartsFromItsSamplerOptions()
    {
        var options = new ChatOptions { MaxOutputTokens = 64, RawRepresentationFactory = _ => new Tq.Core.Sampling.SamplerOptions { Temperature = 0 } };

        ChatResponse response = await _client.GetResponseAsync(ChatReference.Messages("simple"), options);

        Assert.Equal(ChatReference.Completion("simple").GetProperty("message").GetProperty("content").GetString(), response.Text);
    }

    [Fact]
    public async Task GetResponseAsync_AdditionalProperties_MinPIsHonoured()
    {
        // min-p = 1 keeps only the most likely token: greedy whatever the temperature.
        var options = new ChatOptions { Temperature = 1.5f, Seed = 9, MaxOutputTokens = 64, AdditionalProperties = new() { [TurboQuantChatClient.MinPProperty] = 1f } };

        ChatResponse response = await _client.GetResponseAsync(ChatReference.Messages("simple"), options);

        Assert.Equal(ChatReference.Completion("simple").GetProperty("message").GetProperty("content").GetString(), response.Text);
    }

    [Fact]
    public void GetService_PerConventions()
    {
        Assert.Same(_client, _client.GetService(typeof(IChatClient)));
        Assert.Same(_client, _client.GetService(typeof(TurboQuantChatClient)));
        Assert.Same(_client.Engine, _client.GetService(typeof(TurboQuantEngine)));
        Assert.Same(_client.Engine.Model, _client.GetService(typeof(Tq.Core.Models.Model)));
        ChatClientMetadata metadata = Assert.IsType<ChatClientMetadata>(_client.GetService(typeof(ChatClientMetadata)));
        Assert.Equal("tq-chat-5m-f16", metadata.DefaultModelId);
        Assert.Equal(TurboQuantChatClient.ProviderName, metadata.ProviderName);
        Assert.Null(_client.GetService(typeof(IChatClient), "key"));
        Assert.Null(_client.GetService(typeof(string)));
    }

    [Fact]
    public async Task GetResponseAsync_OtherModelId_Throws()
    {
        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => _client.GetResponseAsync("Hi", new ChatOptions { ModelId = "gpt-4o" }));

        Assert.Contains("gpt-4o", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_InvalidTopP_ThrowsNamingIt()
    {
        ArgumentOutOfRangeException e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _client.GetResponseAsync("Hi", new ChatOptions { TopP = 1.5f }));

        Assert.Equal("TopP", e.ParamName);
    }

    private List<PooledSession> IdleSessions()
    {
        var field = typeof(SessionPool).GetField("_idle", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        return (List<PooledSession>)field.GetValue(_client.Engine.Sessions)!;
    }
}
