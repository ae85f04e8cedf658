using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.AI;
using OpenAI;
using Tq.Testing;

namespace Tq.Samples.Tests;

/// <summary>
/// The WebApi sample hosted in-process on the real tq-chat-5m model, called through its own endpoints and through the
/// official OpenAI .NET client (as <see cref="IChatClient"/>) pointed at the OpenAI-compatible endpoint.
/// </summary>
public sealed class WebApiTests : IClassFixture<WebApiTests.Server>
{
    private const string System = "You are a helpful assistant.";
    private const string Question = "Hello! Who are you?";
    private const string Answer = "I am a small helpful assistant."; // llama.cpp's greedy reply (reference chat.json)

    private readonly Server _server;

    public WebApiTests(Server server) => _server = server;

    [Fact]
    public async Task OpenAIClient_NonStreaming_ReturnsTheGreedyAnswerAndUsage()
    {
        IChatClient chat = _server.CreateOpenAIClient();

        ChatResponse response = await chat.GetResponseAsync([new(ChatRole.System, System), new(ChatRole.User, Question)], new ChatOptions { Temperature = 0 });

        Assert.Equal(Answer, response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(58, response.Usage!.InputTokenCount); // llama.cpp's prompt_tokens for this conversation
        Assert.True(response.Usage.OutputTokenCount > 0);
        Assert.Equal("tq-chat-5m-q8_0", response.ModelId);
    }

    [Fact]
    public async Task OpenAIClient_Streaming_StreamsTheSameAnswer()
    {
        IChatClient chat = _server.CreateOpenAIClient();
        var updates = new List<ChatResponseUpdate>();

        await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync([new(ChatRole.System, System), new(ChatRole.User, Question)], new ChatOptions { Temperature = 0 }))
        {
            updates.Add(update);
        }

        ChatResponse response = updates.ToChatResponse();
        Assert.True(updates.Count(u => u.Text.Length > 0) > 5, "the answer arrives in pieces");
        Assert.Equal(Answer, response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(58, response.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task OpenAIClient_WithFunctionInvocation_RunsTheToolLoopOverHttp()
    {
        int invocations = 0;
        AIFunction weather = AIFunctionFactory.Create((string city) => { invocations++; return "{\"temperature\": 21}"; }, "get_weather", "Get the current weather in a city");
        using IChatClient chat = new ChatClientBuilder(_server.CreateOpenAIClient()).UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = 2).Build();

        ChatResponse response = await chat.GetResponseAsync("What is the weather in Oslo?", new ChatOptions { Tools = [weather], Temperature = 0, MaxOutputTokens = 64 });

        Assert.True(invocations >= 1);
        FunctionCallContent call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().First();
        Assert.Equal("get_weather", call.Name);
        Assert.Contains(response.Messages.SelectMany(m => m.Contents), c => c is FunctionResultContent r && r.CallId == call.CallId);
    }

    [Fact]
    public async Task OpenAIClient_StreamingToolCall_ArrivesAsFunctionCall()
    {
        IChatClient chat = _server.CreateOpenAIClient();
        AITool tool = AIFunctionFactory.CreateDeclaration("get_weather", "Get the current weather in a city", JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""").RootElement);

        ChatResponse response = await chat.GetStreamingResponseAsync("What is the weather in Oslo?", new ChatOptions { Tools = [tool], Temperature = 0 }).ToChatResponseAsync();

        FunctionCallContent call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.True(call.Arguments!.ContainsKey("city"));
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task ChatStreamEndpoint_StreamsPlainText()
    {
        using HttpClient http = _server.CreateClient();

        using HttpResponseMessage response = await http.PostAsJsonAsync("/api/chat/stream", new { message = Question, system = System });

        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Answer, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChatEndpoint_ReturnsTextAndUsage()
    {
        using HttpClient http = _server.CreateClient();

        using HttpResponseMessage response = await http.PostAsJsonAsync("/api/chat", new { message = Question, system = System });
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(Answer, body.RootElement.GetProperty("text").GetString());
        Assert.Equal("stop", body.RootElement.GetProperty("finishReason").GetString());
    }

    [Theory]
    [InlineData("""{"model": "tq-chat-5m-q8_0"}""", "Missing required parameter: 'messages'")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}], "top_p": 3}""", "Invalid 'top_p'")]
    [InlineData("""{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}]}""", "text-only")]
    [InlineData("not json", "")]
    public async Task ChatCompletions_BadRequest_Returns400WithOpenAIError(string body, string expected)
    {
        using HttpClient http = _server.CreateClient();

        using HttpResponseMessage response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        using JsonDocument error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/chat", "{}")]
    [InlineData("/api/chat/stream", "{}")]
    [InlineData("/api/chat", """{"message": "Hi", "history": [{"role": "wizard", "text": "x"}]}""")]
    public async Task ChatEndpoints_InvalidBody_Return400WithoutGenerating(string path, string body)
    {
        using HttpClient http = _server.CreateClient();

        using HttpResponseMessage response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        using JsonDocument error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(string.IsNullOrEmpty(error.RootElement.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task OpenAIClient_ListsTheServedModel()
    {
        using HttpClient http = _server.CreateClient();
        var options = new OpenAIClientOptions { Endpoint = new Uri(http.BaseAddress!, "v1"), Transport = new HttpClientPipelineTransport(http) };
        var models = new OpenAI.Models.OpenAIModelClient(new ApiKeyCredential("not-needed"), options);

        ClientResult<OpenAI.Models.OpenAIModelCollection> list = await models.GetModelsAsync();

        Assert.Equal("tq-chat-5m-q8_0", Assert.Single(list.Value).Id);
    }

    /// <summary>The sample app on the q8_0 model with an FP16 cache (so greedy answers equal llama.cpp's).</summary>
    public sealed class Server : WebApplicationFactory<Program>
    {
        public IChatClient CreateOpenAIClient()
        {
            HttpClient http = CreateClient();
            var options = new OpenAIClientOptions { Endpoint = new Uri(http.BaseAddress!, "v1"), Transport = new HttpClientPipelineTransport(http) };
            return new OpenAI.Chat.ChatClient("tq-chat-5m-q8_0", new ApiKeyCredential("not-needed"), options).AsIChatClient();
        }

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            builder.UseSetting("TurboQuant:ModelPath", TestPaths.Model("tq-chat-5m-q8_0.gguf"));
            builder.UseSetting("TurboQuant:BitsK", "16");
            builder.UseSetting("TurboQuant:BitsV", "16");
            builder.UseSetting("TurboQuant:Threads", "1");
            builder.UseSetting("TurboQuant:MaxOutputTokens", "64");
            builder.UseSetting("TurboQuant:Temperature", "0");
        }
    }
}
