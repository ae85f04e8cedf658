using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Tq.Extensions.AI;

namespace Tq.SemanticKernel.Tests;

/// <summary>What <see cref="ChatOptions"/> the TurboQuant client receives for SK execution settings.</summary>
public sealed class SettingsMappingTests : IDisposable
{
    private readonly TurboQuantEngine _engine = SkModels.CreateEngine();
    private readonly CapturingChatClient[] _capture = new CapturingChatClient[1];
    private readonly TurboQuantChatCompletionService _service;
    private readonly Kernel _kernel;

    public SettingsMappingTests()
    {
        _service = new TurboQuantChatCompletionService(_engine, null, null, null, inner => _capture[0] = new CapturingChatClient(inner));
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton<IChatCompletionService>(_service);
        builder.Plugins.AddFromObject(new WeatherPlugin(), "weather");
        _kernel = builder.Build();
    }

    public static TheoryData<string> FunctionChoices => new() { "auto", "required", "none" };

    public void Dispose() => _engine.Dispose();

    [Fact]
    public async Task GetChatMessageContentsAsync_TurboQuantSettings_MapToChatOptions()
    {
        var settings = new TurboQuantPromptExecutionSettings
        {
            Temperature = 0.25f,
            TopP = 0.9f,
            TopK = 20,
            MinP = 0.1f,
            RepeatPenalty = 1.1f,
            Seed = 7,
            MaxTokens = 3,
            StopSequences = ["."],
            FrequencyPenalty = 0.5f,
            PresencePenalty = 0.25f,
            BitsK = 4,
            BitsV = 2,
        };

        ChatOptions options = await CaptureAsync(settings);

        AssertSampling(options);
        Assert.Equal(0.9f, options.TopP);
        Assert.Equal(20, options.TopK);
        Assert.Equal(0.5f, options.FrequencyPenalty);
        Assert.Equal(0.25f, options.PresencePenalty);
        Assert.Equal(0.1f, Assert.IsType<float>(options.AdditionalProperties![TurboQuantChatClient.MinPProperty]));
        Assert.Equal(1.1f, Assert.IsType<float>(options.AdditionalProperties[TurboQuantChatClient.RepeatPenaltyProperty]));
        Assert.False(options.AdditionalProperties.ContainsKey("bits_k"));
        Assert.Null(options.Tools);
    }

    [Fact]
    public async Task GetChatMessageContentsAsync_ExtensionDataSettings_MapToChatOptions()
    {
        var settings = new PromptExecutionSettings
        {
            ExtensionData = new Dictionary<string, object>
            {
                ["temperature"] = 0.25,
                ["seed"] = "7",
                ["max_tokens"] = 3,
                ["stop_sequences"] = new[] { "." },
                ["min_p"] = 0.1,
            },
        };

        ChatOptions options = await CaptureAsync(settings);

        AssertSampling(options);
        Assert.Equal(0.1f, Convert.ToSingle(options.AdditionalProperties![TurboQuantChatClient.MinPProperty], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(FunctionChoices))]
    public async Task GetChatMessageContentsAsync_FunctionChoiceBehavior_MapsToolsAndMode(string choice)
    {
        var settings = new TurboQuantPromptExecutionSettings
        {
            Temperature = 0,
            MaxTokens = 64,
            FunctionChoiceBehavior = choice switch
            {
                "auto" => FunctionChoiceBehavior.Auto(),
                "required" => FunctionChoiceBehavior.Required(),
                _ => FunctionChoiceBehavior.None(),
            },
        };

        ChatOptions options = await CaptureAsync(settings, "What is the weather in Oslo?");

        AITool tool = Assert.Single(options.Tools!);
        Assert.EndsWith("get_weather", tool.Name, StringComparison.Ordinal);
        Assert.Equal(
            choice switch { "auto" => ChatToolMode.Auto, "required" => ChatToolMode.RequireAny, _ => ChatToolMode.None },
            options.ToolMode);
    }

    [Fact]
    public async Task GetChatMessageContentsAsync_OtherBits_ThrowsArgumentException()
    {
        var history = new ChatHistory();
        history.AddUserMessage("Hello");

        var e = await Assert.ThrowsAsync<ArgumentException>(() => _service.GetChatMessageContentsAsync(history, new TurboQuantPromptExecutionSettings { BitsK = 16 }, _kernel));

        Assert.Contains("bits_k", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromExecutionSettings_BaseSettings_KeepsIdsAndFunctionChoice()
    {
        FunctionChoiceBehavior auto = FunctionChoiceBehavior.Auto();
        var settings = new PromptExecutionSettings
        {
            ServiceId = "svc",
            ModelId = "m",
            FunctionChoiceBehavior = auto,
            ExtensionData = new Dictionary<string, object> { ["top_k"] = JsonDocument.Parse("5").RootElement, ["bits_v"] = 2.5, ["other"] = "x" },
        };

        TurboQuantPromptExecutionSettings tq = TurboQuantPromptExecutionSettings.FromExecutionSettings(settings);

        Assert.Equal("svc", tq.ServiceId);
        Assert.Equal("m", tq.ModelId);
        Assert.Same(auto, tq.FunctionChoiceBehavior);
        Assert.Equal(5, tq.TopK);
        Assert.Equal(2.5f, tq.BitsV);
        Assert.Equal("x", tq.ExtensionData!["other"].ToString());
        Assert.Same(tq, TurboQuantPromptExecutionSettings.FromExecutionSettings(tq));
    }

    [Fact]
    public void FromExecutionSettings_WrongType_ThrowsArgumentException()
    {
        var settings = new PromptExecutionSettings { ExtensionData = new Dictionary<string, object> { ["max_tokens"] = "many" } };

        Assert.Throws<ArgumentException>(() => TurboQuantPromptExecutionSettings.FromExecutionSettings(settings));
    }

    [Fact]
    public void Clone_Frozen_CopiesAndUnfreezes()
    {
        var settings = new TurboQuantPromptExecutionSettings { Temperature = 0.5f, StopSequences = ["x"], BitsK = 4 };
        settings.Freeze();

        var clone = (TurboQuantPromptExecutionSettings)settings.Clone();
        clone.Temperature = 0.1f;

        Assert.Throws<InvalidOperationException>(() => settings.Temperature = 0.1f);
        Assert.Equal(0.5f, settings.Temperature);
        Assert.Equal(["x"], clone.StopSequences!);
        Assert.Equal(4f, clone.BitsK);
    }

    private static void AssertSampling(ChatOptions options)
    {
        Assert.Equal(0.25f, options.Temperature);
        Assert.Equal(7L, options.Seed);
        Assert.Equal(3, options.MaxOutputTokens);
        Assert.Equal(["."], options.StopSequences!);
    }

    private async Task<ChatOptions> CaptureAsync(PromptExecutionSettings settings, string question = "Tell me a story.")
    {
        var history = new ChatHistory();
        history.AddUserMessage(question);
        await _service.GetChatMessageContentsAsync(history, settings, _kernel);
        return Assert.IsType<ChatOptions>(_capture[0].Calls[0].Options, exactMatch: false);
    }
}
