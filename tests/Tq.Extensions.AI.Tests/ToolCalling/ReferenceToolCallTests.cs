using System.Text.Json;
using Microsoft.Extensions.AI;
using Tq.Extensions.AI.ToolCalling;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.ToolCalling;

/// <summary>
/// Checks the parser against llama.cpp: the tool calls it parsed from tq-chat-5m's real output, and the tool-call turns
/// that each published chat template renders (the syntax those models are trained to produce).
/// </summary>
public sealed class ReferenceToolCallTests
{
    /// <summary>(template, assistant header, end-of-turn marker) of the families whose tool-call turn llama.cpp rendered.</summary>
    public static TheoryData<string, string, string> RenderedFamilies => new()
    {
        { "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", "<|im_start|>assistant\n", "<|im_end|>" },
        { "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", "<|im_start|>assistant\n", "<|im_end|>" },
        { "Qwen-Qwen2.5-7B-Instruct.jinja", "<|im_start|>assistant\n", "<|im_end|>" },
        { "Qwen-Qwen3-0.6B.jinja", "<|im_start|>assistant\n", "<|im_end|>" },
        { "Qwen3.5-4B.jinja", "<|im_start|>assistant\n", "<|im_end|>" },
        { "meta-llama-Llama-3.1-8B-Instruct.jinja", "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>" },
        { "meta-llama-Llama-3.2-3B-Instruct.jinja", "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>" },
    };

    [Fact]
    public void Parse_TqChatToolTurnAsRendered_MatchesTheConversationsCall()
    {
        using JsonDocument chat = JsonDocument.Parse(File.ReadAllText(TestPaths.Reference("tq-chat-5m-f16", "chat.json")));
        JsonElement expected = FirstToolCall(chat.RootElement.GetProperty("conversations").GetProperty("tools").GetProperty("messages"));
        string rendering = chat.RootElement.GetProperty("renderings").GetProperty("tools").GetString()!;
        string turn = AssistantTurn(rendering, "What is the weather in Paris?", "<|im_start|>assistant\n", "<|im_end|>");
        ToolCallFormat format = ToolCallParser.DetectFormat(ModelTemplate());

        ToolCallParseResult result = ToolCallParser.Parse(turn, format);

        Assert.Equal(ToolCallFormat.Hermes, format);
        AssertSameCall(expected, Assert.Single(result.Calls));
        Assert.Equal(string.Empty, result.Text);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Parse_TqChatCompletions_SameCallsAndTextAsLlamaCpp()
    {
        // chat.json keeps llama.cpp's parsed answer, not the raw tokens: the raw tool-call turn is rebuilt in the
        // model's own syntax (the one its template renders), one <tool_call> element per parsed call.
        using JsonDocument chat = JsonDocument.Parse(File.ReadAllText(TestPaths.Reference("tq-chat-5m-f16", "chat.json")));
        foreach (JsonProperty completion in chat.RootElement.GetProperty("chat_completions").EnumerateObject())
        {
            JsonElement message = completion.Value.GetProperty("message");
            string content = message.GetProperty("content").GetString()!;
            JsonElement[] calls = message.TryGetProperty("tool_calls", out JsonElement tc) ? [.. tc.EnumerateArray()] : [];
            string raw = content + string.Concat(calls.Select(c =>
                $"<tool_call>\n{{\"name\": {JsonSerializer.Serialize(c.GetProperty("function").GetProperty("name").GetString())}, \"arguments\": {c.GetProperty("function").GetProperty("arguments").GetString()}}}\n</tool_call>"));

            ToolCallParseResult result = ToolCallParser.Parse(raw, ToolCallFormat.Hermes);

            Assert.Equal(content, result.Text);
            Assert.Equal(calls.Length, result.Calls.Count);
            for (int i = 0; i < calls.Length; i++)
            {
                AssertSameCall(calls[i], result.Calls[i]);
            }

            Assert.Equal(completion.Value.GetProperty("finish_reason").GetString() == "tool_calls", result.Calls.Count > 0);
        }
    }

    [Theory]
    [MemberData(nameof(RenderedFamilies))]
    public void Parse_PublishedTemplateToolTurn_GivesTheRenderedCall(string template, string header, string endOfTurn)
    {
        using JsonDocument renderings = JsonDocument.Parse(File.ReadAllText(TestPaths.Reference("templates", "renderings.json")));
        JsonElement expected = FirstToolCall(renderings.RootElement.GetProperty("conversations").GetProperty("tools").GetProperty("messages"));
        string rendering = renderings.RootElement.GetProperty("renderings").GetProperty(template).GetProperty("tools").GetString()!;
        string turn = AssistantTurn(rendering, "What is the weather in Paris?", header, endOfTurn);
        ToolCallFormat format = ToolCallParser.DetectFormat(File.ReadAllText(TestPaths.Template(template)));

        ToolCallParseResult result = ToolCallParser.Parse(turn, format);

        Assert.Empty(result.Errors);
        AssertSameCall(expected, Assert.Single(result.Calls));
        for (int i = 0; i <= turn.Length; i++)
        {
            Assert.Equal(ToolCallAssert.Describe([result]), ToolCallAssert.Describe(ToolCallAssert.Stream(format, [turn[..i], turn[i..]])));
        }
    }

    private static string ModelTemplate()
    {
        using var file = Tq.Core.Gguf.GgufFile.Open(TestPaths.Model("tq-chat-5m-f16.gguf"));
        return file.Metadata.GetString("tokenizer.chat_template");
    }

    private static JsonElement FirstToolCall(JsonElement messages) =>
        messages.EnumerateArray().First(m => m.TryGetProperty("tool_calls", out _)).GetProperty("tool_calls")[0].Clone();

    private static string AssistantTurn(string rendering, string question, string header, string endOfTurn)
    {
        int start = rendering.IndexOf(header, rendering.IndexOf(question, StringComparison.Ordinal), StringComparison.Ordinal) + header.Length;
        return rendering[start..rendering.IndexOf(endOfTurn, start, StringComparison.Ordinal)];
    }

    private static void AssertSameCall(JsonElement expected, FunctionCallContent actual)
    {
        JsonElement function = expected.GetProperty("function");
        Assert.Equal(function.GetProperty("name").GetString(), actual.Name);
        Assert.Equal(ToolCallAssert.Canonical(function.GetProperty("arguments").GetString()!), ToolCallAssert.Arguments(actual));
    }
}
