using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Tq.Core.Templates;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>
/// Reasoning models' <c>&lt;think&gt;</c> blocks through the client, with the real Qwen3 and DeepSeek-R1 distill chat
/// templates on the tiny chat model. The R1 template opens the block in the prompt, so the tiny model's whole answer
/// is reasoning; the Qwen3 template leaves it to the model, which (never having learnt it) answers directly.
/// </summary>
public sealed class ReasoningTests
{
    private const string R1Template = "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja";
    private const string Qwen3Template = "Qwen-Qwen3-0.6B.jinja";

    [Theory]
    [InlineData(R1Template, true)]
    [InlineData(Qwen3Template, true)]
    [InlineData("Qwen-Qwen2.5-7B-Instruct.jinja", false)]
    public void IsReasoningTemplate_PublishedTemplates(string file, bool expected) =>
        Assert.Equal(expected, ReasoningParser.IsReasoningTemplate(File.ReadAllText(TestPaths.Template(file))));

    [Theory]
    [InlineData(R1Template, true, true)]
    [InlineData(Qwen3Template, true, false)]
    [InlineData(Qwen3Template, false, false)] // enable_thinking=false renders an empty, closed block
    public void EndsInReasoning_RenderedGenerationPrompt(string file, bool enableThinking, bool expected)
    {
        ChatTemplate template = ChatTemplate.Parse(File.ReadAllText(TestPaths.Template(file)));
        string prompt = template.Render(new ChatTemplateInput(new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }))
        {
            EnableThinking = enableThinking,
        });
        Assert.Equal(expected, ReasoningParser.EndsInReasoning(prompt));
    }

    [Fact]
    public async Task GetStreamingResponseAsync_R1Template_StreamsReasoningApartFromText()
    {
        using TurboQuantChatClient client = CreateClient(R1Template);
        List<ChatResponseUpdate> updates = [];
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync("Why is the sky blue?", Options()))
        {
            updates.Add(update);
        }

        List<TextReasoningContent> reasoning = [.. updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>()];
        Assert.True(reasoning.Count >= 2, $"reasoning came in {reasoning.Count} update(s)");
        string thought = string.Concat(reasoning.Select(r => r.Text));
        Assert.False(string.IsNullOrWhiteSpace(thought));
        Assert.DoesNotContain("<think>", thought, StringComparison.Ordinal);

        // Update.Text is the answer only: the reasoning never leaks into it.
        string answer = string.Concat(updates.Select(u => u.Text));
        Assert.DoesNotContain(thought, answer, StringComparison.Ordinal);

        ChatResponse response = updates.ToChatResponse();
        Assert.Equal(thought, string.Concat(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>().Select(r => r.Text)));
    }

    [Fact]
    public async Task GetResponseAsync_R1TemplateHide_DropsReasoningButCountsItsTokens()
    {
        using TurboQuantChatClient client = CreateClient(R1Template);
        ChatResponse kept = await client.GetResponseAsync("Why is the sky blue?", Options());
        ChatResponse hidden = await client.GetResponseAsync("Why is the sky blue?", Options(TurboQuantChatClient.ReasoningHide));

        Assert.Contains(kept.Messages.SelectMany(m => m.Contents), c => c is TextReasoningContent);
        Assert.DoesNotContain(hidden.Messages.SelectMany(m => m.Contents), c => c is TextReasoningContent);
        Assert.Equal(kept.Text, hidden.Text);
        Assert.Equal(kept.Usage!.OutputTokenCount, hidden.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task GetResponseAsync_Qwen3TemplateWithoutThinkOutput_AllAnswerText()
    {
        using TurboQuantChatClient client = CreateClient(Qwen3Template);
        ChatResponse response = await client.GetResponseAsync("Hello!", Options());
        Assert.DoesNotContain(response.Messages.SelectMany(m => m.Contents), c => c is TextReasoningContent);
        Assert.False(string.IsNullOrWhiteSpace(response.Text));
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData(1)]
    public async Task GetResponseAsync_UnknownReasoningValue_Refused(object value)
    {
        using TurboQuantChatClient client = CreateClient(R1Template);
        var options = new ChatOptions { MaxOutputTokens = 4, AdditionalProperties = new() { [TurboQuantChatClient.ReasoningProperty] = value } };
        ArgumentException error = await Assert.ThrowsAnyAsync<ArgumentException>(() => client.GetResponseAsync("Hi", options));
        Assert.Contains(TurboQuantChatClient.ReasoningProperty, error.Message, StringComparison.Ordinal);
    }

    private static TurboQuantChatClient CreateClient(string templateFile) =>
        ChatModels.CreateClient(o => o.ChatTemplate = File.ReadAllText(TestPaths.Template(templateFile)), "tq-chat-5m-q8_0.gguf");

    private static ChatOptions Options(string? reasoning = null)
    {
        var options = new ChatOptions { MaxOutputTokens = 24, Temperature = 0, Seed = 1 };
        if (reasoning is not null)
        {
            options.AdditionalProperties = new() { [TurboQuantChatClient.ReasoningProperty] = reasoning };
        }

        return options;
    }
}
