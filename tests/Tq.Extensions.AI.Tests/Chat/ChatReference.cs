using System.Text.Json;
using Microsoft.Extensions.AI;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>llama.cpp's renderings and greedy replies for tq-chat-5m (<c>reference/tq-chat-5m-f16/chat.json</c>) as M.E.AI objects.</summary>
internal static class ChatReference
{
    private static readonly Lazy<JsonDocument> s_document = new(() => JsonDocument.Parse(File.ReadAllText(TestPaths.Reference("tq-chat-5m-f16", "chat.json"))));

    public static JsonElement Root => s_document.Value.RootElement;

    public static IEnumerable<string> ConversationNames => Root.GetProperty("conversations").EnumerateObject().Select(p => p.Name);

    public static string Rendering(string name) => Root.GetProperty("renderings").GetProperty(name).GetString()!;

    public static JsonElement Completion(string name) => Root.GetProperty("chat_completions").GetProperty(name);

    public static List<ChatMessage> Messages(string name)
    {
        var result = new List<ChatMessage>();
        foreach (JsonElement m in Root.GetProperty("conversations").GetProperty(name).GetProperty("messages").EnumerateArray())
        {
            string role = m.GetProperty("role").GetString()!;
            string content = m.TryGetProperty("content", out JsonElement c) ? c.GetString() ?? string.Empty : string.Empty;
            if (role == "tool")
            {
                result.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(m.GetProperty("tool_call_id").GetString()!, content)]));
                continue;
            }

            var contents = new List<AIContent>();
            if (content.Length > 0)
            {
                contents.Add(new TextContent(content));
            }

            if (m.TryGetProperty("tool_calls", out JsonElement calls))
            {
                foreach (JsonElement call in calls.EnumerateArray())
                {
                    JsonElement function = call.GetProperty("function");
                    var arguments = JsonSerializer.Deserialize<Dictionary<string, object?>>(function.GetProperty("arguments").GetString()!);
                    contents.Add(new FunctionCallContent(call.GetProperty("id").GetString()!, function.GetProperty("name").GetString()!, arguments));
                }
            }

            result.Add(new ChatMessage(new ChatRole(role), contents));
        }

        return result;
    }

    public static List<AITool> Tools(string name)
    {
        var tools = new List<AITool>();
        if (Root.GetProperty("conversations").GetProperty(name).TryGetProperty("tools", out JsonElement list))
        {
            foreach (JsonElement tool in list.EnumerateArray())
            {
                JsonElement f = tool.GetProperty("function");
                tools.Add(AIFunctionFactory.CreateDeclaration(f.GetProperty("name").GetString()!, f.GetProperty("description").GetString(), f.GetProperty("parameters").Clone()));
            }
        }

        return tools;
    }
}
