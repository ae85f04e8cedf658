using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using OpenAI;
using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

/// <summary>
/// <c>tq serve</c> as a child process on a free loopback port, called through the official OpenAI .NET client and
/// plain HTTP for <c>/health</c> and <c>/metrics</c>; the process is killed at the end.
/// </summary>
public sealed partial class ServeCommandTests : IAsyncLifetime, IDisposable
{
    private const string ModelId = "tq-chat-5m-q8_0";
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private Process? _server;
    private Uri? _address;

    public async Task InitializeAsync()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        foreach (string arg in new[] { TqProcess.TqDll, "serve", "-m", TestPaths.Model(ModelId + ".gguf"), "--port", "0", "-t", "1", "--sessions", "2", "-c", "512", "--bits-k", "16", "--bits-v", "16", "-n", "32" })
        {
            start.ArgumentList.Add(arg);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string line = await _server.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("tq serve ended before listening.");
        Match address = Address().Match(line);
        Assert.True(address.Success, line);
        _address = new Uri(address.Value);
    }

    public Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit(10_000);
        }

        _server?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Serve_OpenAIClient_ChatsStreamsAndListsTheModel()
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(_address!, "v1") };
        var openai = new OpenAIClient(new ApiKeyCredential("not-needed"), options);
        IChatClient chat = openai.GetChatClient(ModelId).AsIChatClient();
        ChatMessage[] messages = [new(ChatRole.System, "You are a helpful assistant."), new(ChatRole.User, "Hello! Who are you?")];

        ChatResponse response = await chat.GetResponseAsync(messages, new ChatOptions { Temperature = 0 });
        ChatResponse streamed = await chat.GetStreamingResponseAsync(messages, new ChatOptions { Temperature = 0 }).ToChatResponseAsync();
        ClientResult<OpenAI.Models.OpenAIModelCollection> models = await openai.GetOpenAIModelClient().GetModelsAsync();

        Assert.Equal("I am a small helpful assistant.", response.Text); // llama.cpp's greedy reply (reference chat.json)
        Assert.Equal(response.Text, streamed.Text);
        Assert.Equal(58, response.Usage!.InputTokenCount);
        Assert.Equal(ModelId, Assert.Single(models.Value).Id);
    }

    [Fact]
    public async Task Serve_HealthAndMetrics_ReportTheEngine()
    {
        IChatClient chat = new OpenAIClient(new ApiKeyCredential("x"), new OpenAIClientOptions { Endpoint = new Uri(_address!, "v1") }).GetChatClient(ModelId).AsIChatClient();
        ChatResponse response = await chat.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 4 });

        using JsonDocument health = JsonDocument.Parse(await _http.GetStringAsync(new Uri(_address!, "health")));
        string metrics = await _http.GetStringAsync(new Uri(_address!, "metrics"));

        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        Assert.Equal(2, health.RootElement.GetProperty("sessions_max").GetInt32());
        Assert.Matches($"tq_generated_tokens_total{{model=\"{ModelId}\"}} ([1-9][0-9]*)", metrics);
        Assert.Contains($"tq_requests_waiting{{model=\"{ModelId}\"}} 0", metrics, StringComparison.Ordinal);
        Assert.Matches($"tq_kv_cache_bytes{{model=\"{ModelId}\"}} [1-9]", metrics);
        Assert.Contains("# TYPE tq_decode_tokens_per_second gauge", metrics, StringComparison.Ordinal);
        Assert.Equal(4, response.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Serve_BadRequest_AnswersAnOpenAIErrorAndKeepsServing()
    {
        using var bad = new StringContent("""{"messages": [{"role": "wizard", "content": "x"}]}""", Encoding.UTF8, "application/json");
        using HttpResponseMessage refused = await _http.PostAsync(new Uri(_address!, "v1/chat/completions"), bad);
        using JsonDocument error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        using HttpResponseMessage health = await _http.GetAsync(new Uri(_address!, "health"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("messages[0].role", error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Serve_Sigterm_StopsCleanly()
    {
        // As a service manager stops it: SIGTERM ends the server with exit code 0 (it used to wait forever).
        using (Process signal = Process.Start("kill", ["-TERM", _server!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _server.WaitForExitAsync(timeout.Token);

        Assert.Equal(0, _server.ExitCode);
    }

    [GeneratedRegex(@"http://[0-9.]+:[0-9]+")]
    private static partial Regex Address();
}
