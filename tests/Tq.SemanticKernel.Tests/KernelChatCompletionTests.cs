using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Tq.Extensions.AI;

namespace Tq.SemanticKernel.Tests;

/// <summary>Chat completion through a kernel on the real tq-chat-5m model.</summary>
public sealed class KernelChatCompletionTests : IDisposable
{
    private readonly TurboQuantEngine _engine = SkModels.CreateEngine();
    private readonly CapturingChatClient[] _capture = new CapturingChatClient[1];
    private readonly TurboQuantChatCompletionService _service;
    private readonly WeatherPlugin _weather = new();
    private readonly CountingInvocationFilter _filter = new();
    private readonly Kernel _kernel;

    public KernelChatCompletionTests()
    {
        _service = new TurboQuantChatCompletionService(_engine, null, null, null, inner => _capture[0] = new CapturingChatClient(inner));
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton<IChatCompletionService>(_service);
        builder.Plugins.AddFromObject(_weather, "weather");
        _kernel = builder.Build();
        _kernel.AutoFunctionInvocationFilters.Add(_filter);
    }

    private CapturingChatClient Capture => _capture[0];

    public void Dispose() => _engine.Dispose();

    [Fact]
    public async Task InvokePromptAsync_Greedy_ReturnsText()
    {
        FunctionResult result = await _kernel.InvokePromptAsync(
            "Tell me a story about a cat.",
            new KernelArguments(new TurboQuantPromptExecutionSettings { MaxTokens = 16, Temperature = 0 }));

        Assert.False(string.IsNullOrWhiteSpace(result.GetValue<string>()));
    }

    [Fact]
    public async Task GetChatMessageContentAsync_AutoFunctionChoice_InvokesFunctionAndRendersItsResult()
    {
        var history = new ChatHistory();
        history.AddUserMessage("What is the weather in Oslo?");
        var settings = new TurboQuantPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(), Temperature = 0, MaxTokens = 64 };

        ChatMessageContent answer = await _service.GetChatMessageContentAsync(history, settings, _kernel);

        Assert.True(_weather.Calls >= 1);
        Assert.True(_filter.Count >= 1, "SK's auto-invocation filter did not run.");
        ChatMessageContent call = history.First(m => m.Items.OfType<FunctionCallContent>().Any());
        // The model wrote get_weather; the adapter resolved it to the kernel's plugin-qualified name.
        Assert.Equal("weather_get_weather", call.Items.OfType<FunctionCallContent>().First().FunctionName);
        ChatMessageContent tool = history.First(m => m.Role == AuthorRole.Tool);
        Assert.Equal(WeatherPlugin.Report, Convert.ToString(tool.Items.OfType<FunctionResultContent>().Single().Result, System.Globalization.CultureInfo.InvariantCulture));

        // The model call after the tool ran received the result in its messages.
        Assert.True(Capture.Calls.Count >= 2);
        Assert.Contains(
            Capture.Calls[1].Messages.SelectMany(m => m.Contents).OfType<Microsoft.Extensions.AI.FunctionResultContent>(),
            r => Equals(r.Result?.ToString(), WeatherPlugin.Report));

        Assert.Equal(AuthorRole.Assistant, answer.Role);
        Assert.Empty(answer.Items.OfType<FunctionCallContent>());
        Assert.False(string.IsNullOrWhiteSpace(answer.Content));
        var usage = Assert.IsType<TurboQuantKvCacheUsage>(answer.Metadata![TurboQuantKvCacheUsage.MetadataKey]);
        Assert.True(usage.Tokens > 0);
    }

    [Fact]
    public async Task GetStreamingChatMessageContentsAsync_SameSeed_SameTextAsNonStreaming()
    {
        var settings = new TurboQuantPromptExecutionSettings { Temperature = 0.9f, Seed = 1234, MaxTokens = 24 };
        var history = new ChatHistory();
        history.AddUserMessage("Tell me a story about a dog.");

        // A second engine, so neither call starts from the other's session: with a compressed cache a reused prefix
        // is not bit-identical to a fresh prefill (see docs/semantic-kernel.md).
        using TurboQuantEngine other = SkModels.CreateEngine();
        var streamingService = new TurboQuantChatCompletionService(other);
        ChatMessageContent whole = await _service.GetChatMessageContentAsync(history, settings, _kernel);
        var streamed = new System.Text.StringBuilder();
        int updates = 0;
        await foreach (StreamingChatMessageContent update in streamingService.GetStreamingChatMessageContentsAsync(history, settings, _kernel))
        {
            streamed.Append(update.Content);
            updates++;
        }

        Assert.False(string.IsNullOrEmpty(whole.Content));
        Assert.Equal(whole.Content, streamed.ToString());
        Assert.True(updates > 1, "The answer was not streamed piece by piece.");
    }
}
