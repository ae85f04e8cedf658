using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Tq.Core.Templates;

namespace Tq.Benchmarks.Templates;

/// <summary>
/// Cost of prompt building: compiling Qwen2.5's template, and rendering a 50-turn ChatML conversation with the
/// interpreter versus a hand-written <see cref="StringBuilder"/> loop producing the same text (the baseline).
/// </summary>
[MemoryDiagnoser]
public class ChatTemplateBenchmarks
{
    private ChatTemplate _chatMl = null!;
    private ChatTemplate _qwen = null!;
    private ChatTemplateInput _longConversation = null!;
    private ChatTemplateInput _toolConversation = null!;

    [GlobalSetup]
    public void Setup()
    {
        _chatMl = BuiltInChatTemplates.Get("chatml");
        _qwen = BuiltInChatTemplates.Get("qwen2.5");
        var messages = new JsonArray { new JsonObject { ["role"] = "system", ["content"] = "You are a helpful assistant." } };
        for (int i = 0; i < 50; i++)
        {
            messages.Add(new JsonObject { ["role"] = i % 2 == 0 ? "user" : "assistant", ["content"] = $"Message number {i} with a little text in it." });
        }

        _longConversation = new ChatTemplateInput(messages) { ApplyPolyfills = false };
        _toolConversation = new ChatTemplateInput(JsonNode.Parse("""
            [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "What is the weather in Paris?"},
             {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
             {"role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 21}"}]
            """)!.AsArray())
        {
            Tools = JsonNode.Parse("""
                [{"type": "function", "function": {"name": "get_weather", "description": "Get the current weather in a city",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city name"}}, "required": ["city"]}}}]
                """)!.AsArray(),
        };
        if (HandWrittenChatMl() != _chatMl.Render(_longConversation))
        {
            throw new InvalidOperationException("The baseline does not produce the template's text.");
        }
    }

    [Benchmark]
    public ChatTemplate ParseQwen25() => ChatTemplate.Parse(_qwen.Source);

    [Benchmark(Baseline = true)]
    public string HandWrittenChatMl()
    {
        var sb = new StringBuilder();
        foreach (JsonNode? message in _longConversation.Messages)
        {
            sb.Append("<|im_start|>").Append(message!["role"]!.GetValue<string>()).Append('\n')
              .Append(message["content"]!.GetValue<string>()).Append("<|im_end|>\n");
        }

        return sb.Append("<|im_start|>assistant\n").ToString();
    }

    [Benchmark]
    public string RenderChatMl50Turns() => _chatMl.Render(_longConversation);

    [Benchmark]
    public string RenderQwen25ToolCall() => _qwen.Render(_toolConversation);
}
