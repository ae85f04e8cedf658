using Microsoft.Extensions.AI;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>The tool loop with M.E.AI's <see cref="FunctionInvokingChatClient"/> on the real tq-chat-5m model.</summary>
public sealed class ChatToolTests : IDisposable
{
    private readonly TurboQuantChatClient _client = ChatModels.CreateClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task FunctionInvokingChatClient_ToolRoundTrip_InvokesToolAndRendersItsResult()
    {
        int invocations = 0;
        AIFunction weather = AIFunctionFactory.Create(
            (string city) =>
            {
                invocations++;
                return "{\"temperature\": 21, \"condition\": \"sunny\"}";
            },
            "get_weather",
            "Get the current weather in a city");
        var recorder = new RecordingChatClient(_client);
        using IChatClient chat = new ChatClientBuilder(recorder).UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 2).Build();
        var options = new ChatOptions { Tools = [weather], Temperature = 0, MaxOutputTokens = 64 };

        ChatResponse response = await chat.GetResponseAsync("What is the weather in Oslo?", options);

        Assert.True(invocations >= 1);
        FunctionCallContent call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().First();
        Assert.Equal("get_weather", call.Name);
        FunctionResultContent result = response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().First();
        Assert.Equal(call.CallId, result.CallId);
        Assert.True(recorder.Requests.Count >= 2);
        string secondPrompt = GenerationRequest.Create(_client.Engine, _client, recorder.Requests[1], options).PromptText;
        Assert.Contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": ", secondPrompt, StringComparison.Ordinal);
        Assert.Contains("<|im_start|>user\n<tool_response>\n{\"temperature\": 21, \"condition\": \"sunny\"}\n</tool_response><|im_end|>\n<|im_start|>assistant\n", secondPrompt, StringComparison.Ordinal);
        Assert.NotNull(response.FinishReason);
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
    }

    [Fact]
    public async Task FunctionInvokingChatClient_Streaming_InvokesTool()
    {
        int invocations = 0;
        AIFunction weather = AIFunctionFactory.Create((string city) => { invocations++; return "sunny"; }, "get_weather", "Get the current weather in a city");
        using IChatClient chat = new ChatClientBuilder(_client).UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 2).Build();
        var options = new ChatOptions { Tools = [weather], Temperature = 0, MaxOutputTokens = 64 };

        ChatResponse response = await chat.GetStreamingResponseAsync("What is the weather in Oslo?", options).ToChatResponseAsync();

        Assert.True(invocations >= 1);
        Assert.Contains(response.Messages.SelectMany(m => m.Contents), c => c is FunctionResultContent);
    }

    [Fact]
    public async Task GetResponseAsync_ToolCallCutByMaxTokens_RetriesThenThrowsClearError()
    {
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Get the weather")],
            ToolMode = ChatToolMode.RequireAny,
            Temperature = 0,
            MaxOutputTokens = 3,
        };

        InvalidOperationException e = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.GetResponseAsync("What is the weather in Oslo?", options));

        Assert.Contains("malformed tool call", e.Message, StringComparison.Ordinal);
        Assert.Contains($"after {_client.Engine.Options.MaxToolCallRetries + 1} attempt(s)", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, _client.Engine.GetStatistics().BusySessions);
    }

    private sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public List<List<ChatMessage>> Requests { get; } = [];

        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Requests.Add([.. messages]);
            return base.GetResponseAsync(messages, options, cancellationToken);
        }
    }
}
