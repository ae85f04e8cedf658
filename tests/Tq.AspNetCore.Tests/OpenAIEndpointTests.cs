using System.ClientModel;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace Tq.AspNetCore.Tests;

/// <summary>
/// <c>MapOpenAIChatCompletions</c> over the real engine: every request the serving issue listed gets its status and
/// OpenAI error object; the happy path through the official OpenAI .NET client; a client disconnect cancels generation.
/// </summary>
public sealed class OpenAIEndpointTests : IClassFixture<EndpointServer>
{
    private const string Hi = """[{"role": "user", "content": "Hi"}]""";
    private readonly EndpointServer _server;

    public OpenAIEndpointTests(EndpointServer server)
    {
        _server = server;
        _server.Probe.Reset();
    }

    public static TheoryData<string, int, string?, string> BadRequests => new()
    {
        // body, status, param, code
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "stream": "yes"}""", 400, "stream", "invalid_type" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "stream": true, "stream_options": {"include_usage": "yes"}}""", 400, "stream_options.include_usage", "invalid_type" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "stream_options": {"include_usage": true}}""", 400, "stream_options", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "stop": [null]}""", 400, "stop[0]", "invalid_type" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "stop": [""]}""", 400, "stop[0]", "invalid_value" },
        { """{"messages": [{"role": "wizard", "content": "Hi"}]}""", 400, "messages[0].role", "invalid_value" },
        { """{"messages": [{"content": "Hi"}]}""", 400, "messages[0].role", "missing_required_parameter" },
        { """{"messages": []}""", 400, "messages", "invalid_value" },
        { """{"model": "tq-chat-5m-q8_0"}""", 400, "messages", "missing_required_parameter" },
        { """{"messages": [{"role": "user"}]}""", 400, "messages[0].content", "missing_required_parameter" },
        { """{"messages": [{"role": "user", "content": 5}]}""", 400, "messages[0].content", "invalid_type" },
        { """{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}]}""", 400, "messages[0].content[0].type", "unsupported_content" },
        { """{"messages": [{"role": "tool", "content": "21"}]}""", 400, "messages[0].tool_call_id", "missing_required_parameter" },
        { """{"messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]}]}""", 400, "messages[0].tool_calls[0].function.arguments", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "tools": [{"type": "function", "function": {"name": "get_weather"}}], "tool_choice": {"type": "function", "function": {"name": "add"}}}""", 400, "tool_choice.function.name", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "tool_choice": "required"}""", 400, "tool_choice", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "tool_choice": "sometimes", "tools": [{"type": "function", "function": {"name": "f"}}]}""", 400, "tool_choice", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "response_format": {"type": "json_schema", "json_schema": {"name": "n"}}}""", 400, "response_format.json_schema.schema", "missing_required_parameter" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "response_format": {"type": "yaml"}}""", 400, "response_format.type", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "tools": {}}""", 400, "tools", "invalid_type" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "tools": []}""", 400, "tools", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "tools": [{"type": "function", "function": {"name": "a b"}}]}""", 400, "tools[0].function.name", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "tools": [{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}]}""", 400, "tools[1].function.name", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "n": 2}""", 400, "n", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "temperature": 5}""", 400, "temperature", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "temperature": -1}""", 400, "temperature", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "temperature": "hot"}""", 400, "temperature", "invalid_type" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "top_p": 3}""", 400, "top_p", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "max_tokens": 0}""", 400, "max_tokens", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "max_tokens": 1.5}""", 400, "max_tokens", "invalid_type" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "seed": 1e30}""", 400, "seed", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "seed": "1"}""", 400, "seed", "invalid_type" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "logprobs": true}""", 400, "logprobs", "invalid_value" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "reasoning_effort": "high"}""", 400, "reasoning_effort", "unknown_parameter" },
        { $$$$$"""{"model": "gpt-4o", "messages": {{{{{Hi}}}}}}""", 404, "model", "model_not_found" },
        { """[1, 2]""", 400, null, "invalid_type" },
        { """{"messages": """, 400, null, "invalid_json" },
        { """not json""", 400, null, "invalid_json" },
        { $$$$$"""{"messages": {{{{{Hi}}}}}, "n": 1, "n": 2}""", 400, null, "invalid_json" },
        { $$$$$"""{"messages": [{"role": "user", "content": "{{{{{new string('x', 3000)}}}}}"}]}""", 400, "messages", "context_length_exceeded" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task ChatCompletions_BadRequest_AnswersTheOpenAIErrorObjectAndLogsNoFailure(string body, int status, string? param, string code)
    {
        int failuresBefore = Failures();

        using HttpResponseMessage response = await _server.Http.PostAsync("v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(status, (int)response.StatusCode);
        JsonElement error = json.RootElement.GetProperty("error");
        string message = error.GetProperty("message").GetString()!;
        Assert.Equal(status == 404 ? "invalid_request_error" : "invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(message));
        foreach (string internals in new[] { "(Parameter '", "Actual value was", "JsonValue", "System.", "Exception" })
        {
            Assert.DoesNotContain(internals, message, StringComparison.Ordinal);
        }

        Assert.Equal(failuresBefore, Failures()); // a client's mistake is not the server's failure: no warning, no stack trace
        Assert.Contains(_server.Logs.Entries, e => e.Level == LogLevel.Information && e.Message.Contains(message, StringComparison.Ordinal) && e.Exception is null);
    }

    [Fact]
    public async Task ChatCompletions_ContextExceeded_NamesBothLengths()
    {
        string body = $$$$$"""{"messages": [{"role": "user", "content": "{{{{{new string('x', 3000)}}}}}"}]}""";

        using HttpResponseMessage response = await _server.Http.PostAsync("v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        string message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString()!;

        Assert.Matches("maximum context length is 512 tokens. However, your messages resulted in [0-9]{4} tokens", message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ChatCompletions_ToolCallCutByMaxTokens_FinishesWithLength(bool stream)
    {
        string body = """
            {"messages": [{"role": "user", "content": "What is the weather in Oslo?"}], "max_tokens": 3, "temperature": 0, "stream": STREAM,
             "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}], "tool_choice": "required"}
            """.Replace("STREAM", stream ? "true" : "false", StringComparison.Ordinal);

        using HttpResponseMessage response = await _server.Http.PostAsync("v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (stream)
        {
            Assert.Contains("\"finish_reason\":\"length\"", text, StringComparison.Ordinal);
            Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        }
        else
        {
            JsonElement choice = JsonDocument.Parse(text).RootElement.GetProperty("choices")[0];
            Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
            Assert.StartsWith("<tool_call>", choice.GetProperty("message").GetProperty("content").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ChatCompletions_Streaming_HasTheOptionalOpenAIFields()
    {
        string body = $$$$$"""{"messages": {{{{{Hi}}}}}, "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 3}""";

        using HttpResponseMessage response = await _server.Http.PostAsync("v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        string[] events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("data: [DONE]", events[^1]);
        JsonElement[] chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToArray();
        Assert.All(chunks[..^1], c =>
        {
            Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind);
            Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("logprobs").ValueKind);
            Assert.StartsWith("tq-", c.GetProperty("system_fingerprint").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(3, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task OpenAIClient_ChatAndModels_Work()
    {
        var openai = new OpenAIClient(new ApiKeyCredential("not-needed"), new OpenAIClientOptions { Endpoint = new Uri(_server.Address, "v1") });
        IChatClient chat = openai.GetChatClient(EndpointServer.ModelId).AsIChatClient();

        ChatResponse response = await chat.GetResponseAsync([new(ChatRole.System, "You are a helpful assistant."), new(ChatRole.User, "Hello! Who are you?")], new ChatOptions { Temperature = 0, MaxOutputTokens = 32 });
        ClientResult<OpenAI.Models.OpenAIModelCollection> models = await openai.GetOpenAIModelClient().GetModelsAsync();
        ClientResult<OpenAI.Models.OpenAIModel> model = await openai.GetOpenAIModelClient().GetModelAsync(EndpointServer.ModelId);
        using HttpResponseMessage missing = await _server.Http.GetAsync("v1/models/gpt-4o");

        Assert.Equal("I am a small helpful assistant.", response.Text); // llama.cpp's greedy reply (reference chat.json)
        Assert.Equal(EndpointServer.ModelId, Assert.Single(models.Value).Id);
        Assert.Equal("tq", model.Value.OwnedBy);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task ChatCompletions_ClientDisconnects_CancelsWithinOneTokenAndFreesTheSession()
    {
        _server.Probe.DelayPerUpdate = TimeSpan.FromMilliseconds(50); // a slow reader, so the answer is still being generated
        long before = _server.Engine.GetStatistics().CompletedRequests;
        string body = """{"messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hello! Who are you?"}], "stream": true, "temperature": 0, "max_tokens": 200}""";
        using (var socket = new System.Net.Sockets.TcpClient())
        {
            // A raw connection, closed after the first event: what a browser tab or a killed client does.
            await socket.ConnectAsync(_server.Address.Host, _server.Address.Port);
            NetworkStream stream = socket.GetStream();
            byte[] content = Encoding.UTF8.GetBytes(body);
            byte[] head = Encoding.ASCII.GetBytes($"POST /v1/chat/completions HTTP/1.1\r\nHost: {_server.Address.Authority}\r\nContent-Type: application/json\r\nContent-Length: {content.Length}\r\n\r\n");
            await stream.WriteAsync(head);
            await stream.WriteAsync(content);
            using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
            string? line;
            do
            {
                line = await reader.ReadLineAsync();
            }
            while (line is not null && !line.StartsWith("data: ", StringComparison.Ordinal));

            Assert.NotNull(line);
            socket.Client.Close(); // the client goes away mid-answer
        }

        // The session is freed as the generation unwinds; the endpoint logs the disconnect just after.
        TurboQuantStatisticsWait wait = await TurboQuantStatisticsWait.UntilAsync(_server, s => s.BusySessions == 0 && s.CompletedRequests > before
            && _server.Logs.Entries.Any(e => e.Message.Contains("client disconnected", StringComparison.Ordinal)));

        Assert.True(wait.Reached, $"the session was not freed: {wait.Last}");
        Assert.True(_server.Probe.SawCancellation, "the generation ended by cancellation, not by itself");
        Assert.True(_server.Probe.UpdatesAfterCancellation <= 1, $"{_server.Probe.UpdatesAfterCancellation} updates after the disconnect");
        Assert.True(wait.Last.GeneratedTokens < 200);
    }

    private int Failures() => _server.Logs.Entries.Count(e => e.Level >= LogLevel.Warning || e.Exception is not null);

    private sealed record TurboQuantStatisticsWait(bool Reached, Tq.Extensions.AI.TurboQuantEngineStatistics Last)
    {
        public static async Task<TurboQuantStatisticsWait> UntilAsync(EndpointServer server, Func<Tq.Extensions.AI.TurboQuantEngineStatistics, bool> done)
        {
            Tq.Extensions.AI.TurboQuantEngineStatistics s = server.Engine.GetStatistics();
            for (int i = 0; i < 200 && !done(s); i++)
            {
                await Task.Delay(25);
                s = server.Engine.GetStatistics();
            }

            return new TurboQuantStatisticsWait(done(s), s);
        }
    }
}
