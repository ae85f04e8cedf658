using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Tq.Extensions.AI;

namespace Tq.SemanticKernel.Tests;

/// <summary>The agent loop on the real model.</summary>
public sealed class TurboQuantAgentTests : IDisposable
{
    private const string Instructions = "You are a helpful assistant.";

    private readonly ServiceProviderHolder _holder = new();
    private readonly WeatherPlugin _weather = new();
    private readonly Kernel _kernel;

    public TurboQuantAgentTests()
    {
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddTurboQuantChatCompletion(o => SkModels.Configure(o));
        builder.Plugins.AddFromObject(_weather, "weather");
        _kernel = builder.Build();
        _holder.Services = _kernel.Services;
    }

    public void Dispose() => _holder.Dispose();

    [Fact]
    public async Task InvokeAsync_WithPlugin_KeepsInstructionsToolTurnAndAnswer()
    {
        var agent = new TurboQuantAgent(_kernel)
        {
            Name = "weather-bot",
            Instructions = Instructions,
            ExecutionSettings = new TurboQuantPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(), Temperature = 0, MaxTokens = 64 },
        };

        ChatMessageContent answer = await agent.InvokeAsync("What is the weather in Oslo?");

        Assert.True(_weather.Calls >= 1);
        Assert.Equal(AuthorRole.System, agent.History[0].Role);
        Assert.Equal(Instructions, agent.History[0].Content);
        Assert.Equal(AuthorRole.User, agent.History[1].Role);
        Assert.Contains(agent.History, m => m.Role == AuthorRole.Tool && m.Items.OfType<FunctionResultContent>().Any(r => Equals(r.Result?.ToString(), WeatherPlugin.Report)));
        Assert.Same(answer, agent.History[^1]);
        Assert.Equal("weather-bot", answer.AuthorName);
    }

    [Fact]
    public async Task InvokeStreamingAsync_TwoTurns_StreamsAndKeepsTheConversation()
    {
        var agent = new TurboQuantAgent(_kernel)
        {
            Instructions = Instructions,
            ExecutionSettings = new TurboQuantPromptExecutionSettings { Temperature = 0, MaxTokens = 16 },
        };

        string first = string.Concat(await agent.InvokeStreamingAsync("Tell me a story.").Select(u => u.Content).ToListAsync());
        string second = string.Concat(await agent.InvokeStreamingAsync("Tell me another one.").Select(u => u.Content).ToListAsync());

        Assert.Equal(5, agent.History.Count); // system, user, assistant, user, assistant
        Assert.False(string.IsNullOrEmpty(first));
        Assert.Equal(first, agent.History[2].Content);
        Assert.Equal(second, agent.History[4].Content);
        TurboQuantKvCacheUsage usage = agent.GetKvCacheUsage();
        Assert.True(usage.Tokens > 10);
        Assert.True(usage.KvCacheBytes < usage.F16KvCacheBytes, "The TurboQuant cache should take less than FP16.");
        Assert.True(usage.CompressionRatio > 1);
    }

    [Fact]
    public async Task InvokeAsync_Cancelled_RollsBackTheTurn()
    {
        var agent = new TurboQuantAgent(_kernel) { Instructions = Instructions };
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => agent.InvokeAsync("Tell me a story.", cancellation.Token));

        ChatMessageContent only = Assert.Single(agent.History);
        Assert.Equal(AuthorRole.System, only.Role);
    }

    [Fact]
    public async Task InvokeStreamingAsync_CancelledMidAnswer_StopsAndRollsBack()
    {
        var agent = new TurboQuantAgent(_kernel) { ExecutionSettings = new TurboQuantPromptExecutionSettings { Temperature = 0, MaxTokens = 200 } };
        using var cancellation = new CancellationTokenSource();
        int pieces = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (StreamingChatMessageContent _ in agent.InvokeStreamingAsync("Tell me a story.", cancellation.Token))
            {
                if (++pieces == 3)
                {
                    await cancellation.CancelAsync();
                }
            }
        });

        Assert.Equal(3, pieces);
        Assert.Empty(agent.History);
    }

    /// <summary>Disposes the kernel's service provider (and with it the engine registry) after each test.</summary>
    private sealed class ServiceProviderHolder : IDisposable
    {
        public IServiceProvider? Services { get; set; }

        public void Dispose() => (Services as IDisposable)?.Dispose();
    }
}
