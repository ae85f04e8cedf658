using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Tq.Extensions.AI;
using Tq.Testing;

#pragma warning disable SKEXP0110 // SK's reasoning content types are marked experimental.

namespace Tq.SemanticKernel.Tests;

/// <summary>
/// A reasoning model's <c>&lt;think&gt;</c> block through SK, with the real DeepSeek-R1 distill template on the tiny chat
/// model (the template opens the block in the prompt, so the tiny model's whole answer is reasoning).
/// </summary>
public sealed class ReasoningTests : IDisposable
{
    private readonly TurboQuantEngine _engine;
    private readonly TurboQuantChatCompletionService _service;

    public ReasoningTests()
    {
        var options = new TurboQuantChatOptions();
        SkModels.Configure(options);
        options.ChatTemplate = File.ReadAllText(TestPaths.Template("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"));
        _engine = new TurboQuantEngine(options);
        _service = new TurboQuantChatCompletionService(_engine);
    }

    public void Dispose() => _engine.Dispose();

    [Fact]
    public async Task GetStreamingChatMessageContentsAsync_R1Template_ReasoningItemsApartFromContent()
    {
        var history = new ChatHistory();
        history.AddUserMessage("Why is the sky blue?");
        List<StreamingChatMessageContent> updates = [];
        await foreach (StreamingChatMessageContent update in _service.GetStreamingChatMessageContentsAsync(history, Settings()))
        {
            updates.Add(update);
        }

        List<StreamingReasoningContent> reasoning = [.. updates.SelectMany(u => u.Items).OfType<StreamingReasoningContent>()];
        Assert.True(reasoning.Count >= 2, $"reasoning came in {reasoning.Count} update(s)");
        string thought = string.Concat(reasoning.Select(r => r.Text));
        Assert.False(string.IsNullOrWhiteSpace(thought));
        Assert.DoesNotContain(thought, string.Concat(updates.Select(u => u.Content)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetChatMessageContentsAsync_KeepAndHide_ReasoningItemOnlyWhenKept()
    {
        var history = new ChatHistory();
        history.AddUserMessage("Why is the sky blue?");
        ChatMessageContent kept = (await _service.GetChatMessageContentsAsync(history, Settings()))[0];
        ChatMessageContent hidden = (await _service.GetChatMessageContentsAsync(history, Settings(TurboQuantChatClient.ReasoningHide)))[0];

        ReasoningContent reasoning = Assert.Single(kept.Items.OfType<ReasoningContent>());
        Assert.False(string.IsNullOrWhiteSpace(reasoning.Text));
        Assert.Empty(hidden.Items.OfType<ReasoningContent>());
        Assert.Equal(kept.Content ?? string.Empty, hidden.Content ?? string.Empty);
    }

    [Fact]
    public void FromExecutionSettings_ReasoningFromJson_Mapped()
    {
        var settings = new PromptExecutionSettings { ExtensionData = new Dictionary<string, object> { ["reasoning"] = "hide" } };
        Assert.Equal("hide", TurboQuantPromptExecutionSettings.FromExecutionSettings(settings).Reasoning);
    }

    private static TurboQuantPromptExecutionSettings Settings(string? reasoning = null) =>
        new() { MaxTokens = 24, Temperature = 0, Seed = 1, Reasoning = reasoning };
}
