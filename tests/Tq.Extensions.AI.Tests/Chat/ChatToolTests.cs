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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GetResponse_ToolCallCutByMaxTokens_FinishesWithLengthAndWhatWasGenerated(bool streaming)
    {
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Get the weather")],
            ToolMode = ChatToolMode.RequireAny,
            Temperature = 0,
            MaxOutputTokens = 3,
        };

        ChatResponse response = streaming
            ? await _client.GetStreamingResponseAsync("What is the weather in Oslo?", options).ToChatResponseAsync()
            : await _client.GetResponseAsync("What is the weather in Oslo?", options);

        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.StartsWith("<tool_call>\n{\"name\": ", response.Text, StringComparison.Ordinal); // the forced start, cut inside the call
        Assert.Empty(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal(3, response.Usage!.OutputTokenCount);
        Assert.False(response.Usage.AdditionalCounts?.ContainsKey(TurboQuantChatClient.RetriedOutputTokensCount) ?? false, "a cut call is not retried");
        Assert.Equal(0, _client.Engine.GetStatistics().BusySessions);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task GetResponse_RequireAny_CallsOnlyADeclaredTool(int seed)
    {
        var options = new ChatOptions
        {
            Tools =
            [
                AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Get the weather in a city"),
                AIFunctionFactory.Create((string zone) => "12:00", "get_time", "Get the time in a time zone"),
            ],
            ToolMode = ChatToolMode.RequireAny,
            Temperature = 1.5f,
            TopK = 0,
            TopP = 1,
            Seed = seed,
            MaxOutputTokens = 64,
        };

        // At this temperature the arguments may stay malformed after the retries: the call then comes back as text
        // (never an exception, never a 500 at the endpoint), and its name is still one of the declared tools.
        ChatResponse response = await _client.GetResponseAsync("Add 2 and 3.", options);
        string observed = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().FirstOrDefault()?.Name
            ?? FirstName(response.Text);

        Assert.Contains(observed, new[] { "get_weather", "get_time" });

        static string FirstName(string text) => System.Text.RegularExpressions.Regex.Match(text, "\"name\": \"([^\"]*)\"").Groups[1].Value;
    }

    [Fact]
    public async Task GetResponse_RequireAnyWithoutTools_ThrowsNamingTheProblem()
    {
        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => _client.GetResponseAsync("Hi", new ChatOptions { ToolMode = ChatToolMode.RequireAny }));

        Assert.Contains("ChatOptions.Tools is empty", e.Message, StringComparison.Ordinal);
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
