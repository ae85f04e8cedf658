using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tq.Core.Templates;

/// <summary>
/// Capability probes and message adaptations, following llama.cpp's chat layer (<c>common/chat.cpp</c>'s
/// <c>workaround</c> functions, decided by template capabilities): probe conversations with needle strings tell
/// whether a template renders system messages, tools and tool calls, and whether it renders object arguments.
/// </summary>
internal static class TemplatePolyfills
{
    private const string SystemNeedle = "<System Needle>";
    private const string UserNeedle = "<User Needle>";

    public static ChatTemplateCapabilities DetectCapabilities(ChatTemplate template)
    {
        bool system = TryRender(template, [Message("system", SystemNeedle), Message("user", UserNeedle)], tools: null).Contains(SystemNeedle, StringComparison.Ordinal);

        var parameters = new TemplateDictionary
        {
            ["type"] = "object",
            ["properties"] = new TemplateDictionary { ["arg"] = new TemplateDictionary { ["type"] = "string", ["description"] = "Some argument." } },
            ["required"] = new List<object?> { "arg" },
        };
        var tool = new TemplateDictionary
        {
            ["name"] = "some_tool",
            ["type"] = "function",
            ["function"] = new TemplateDictionary { ["name"] = "some_tool", ["description"] = "Some tool.", ["parameters"] = parameters },
        };
        bool tools = TryRender(template, [Message("user", "Hey")], [tool]).Contains("some_tool", StringComparison.Ordinal);

        var argumentsObject = new TemplateDictionary { ["argument_needle"] = "print('Hello, World!')" };
        string argumentsString = TemplateJson.Serialize(argumentsObject, indent: -1, ensureAscii: false);
        bool rendersString = RendersArguments(TryRender(template, [Message("user", "Hey"), ToolCallMessage(argumentsString)], tools: null));
        bool rendersObject = RendersArguments(TryRender(template, [Message("user", "Hey"), ToolCallMessage(argumentsObject)], tools: null));

        return new ChatTemplateCapabilities(system, tools, rendersString || rendersObject, rendersObject);
    }

    private static bool RendersArguments(string output) =>
        output.Contains("<parameter=argument_needle>", StringComparison.Ordinal)
        || output.Contains("\"argument_needle\":", StringComparison.Ordinal)
        || output.Contains("'argument_needle':", StringComparison.Ordinal);

    private static TemplateDictionary Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    private static TemplateDictionary ToolCallMessage(object arguments) => new()
    {
        ["role"] = "assistant",
        ["content"] = string.Empty, // some templates expect empty content beside tool calls (as llama.cpp's probe)
        ["tool_calls"] = new List<object?>
        {
            new TemplateDictionary
            {
                // Nine characters: Mistral templates insist on that id length.
                ["id"] = "call_1___",
                ["type"] = "function",
                ["function"] = new TemplateDictionary { ["arguments"] = arguments, ["name"] = "ipython" },
            },
        },
    };

    private static string TryRender(ChatTemplate template, List<object?> messages, List<object?>? tools)
    {
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["add_generation_prompt"] = false,
            ["bos_token"] = string.Empty,
            ["eos_token"] = string.Empty,
        };
        if (tools is not null)
        {
            variables["tools"] = tools;
        }

        try
        {
            return template.RenderVariables(variables, DateTimeOffset.UnixEpoch);
        }
        catch (ChatTemplateException)
        {
            // A template that rejects a probe does not have that capability.
            return string.Empty;
        }
    }

    /// <summary>
    /// For templates without a system role, as llama.cpp's <c>system_message_not_supported</c>: a leading system
    /// message is merged into the next message (texts joined with a newline), or dropped when it is the only one.
    /// </summary>
    public static List<object?> MergeSystemMessages(List<object?> messages)
    {
        if (messages.Count == 0 || messages[0] is not TemplateDictionary first || !(first.TryGetValue("role", out object? role) && role is "system"))
        {
            return messages;
        }

        var result = new List<object?>(messages);
        result.RemoveAt(0);
        if (result.Count > 0 && result[0] is TemplateDictionary next)
        {
            string system = first.TryGetValue("content", out object? c) ? TemplateValue.ToConcatString(c) : string.Empty;
            string content = next.TryGetValue("content", out object? n) ? TemplateValue.ToConcatString(n) : string.Empty;
            next["content"] = system + "\n" + content;
        }

        return result;
    }

    /// <summary>As llama.cpp's <c>requires_non_null_content</c>: a message with tool calls and no content gets <c>""</c>.</summary>
    public static void AddMissingContent(List<object?> messages)
    {
        foreach (object? item in messages)
        {
            if (item is TemplateDictionary message && message.ContainsKey("tool_calls") && !message.ContainsKey("content"))
            {
                message["content"] = string.Empty;
            }
        }
    }

    /// <summary>Replaces JSON-string tool-call arguments by the parsed value; text that is not JSON stays a string.</summary>
    public static void ParseToolCallArguments(List<object?> messages)
    {
        foreach (object? item in messages)
        {
            if (item is not TemplateDictionary message || !message.TryGetValue("tool_calls", out object? calls) || calls is not List<object?> toolCalls)
            {
                continue;
            }

            foreach (object? call in toolCalls)
            {
                if (call is TemplateDictionary toolCall
                    && toolCall.TryGetValue("function", out object? f) && f is TemplateDictionary function
                    && function.TryGetValue("arguments", out object? a) && a is string arguments)
                {
                    try
                    {
                        function["arguments"] = TemplateValue.FromJson(JsonNode.Parse(arguments));
                    }
                    catch (JsonException)
                    {
                        // Not JSON: leave it as text, as llama.cpp does.
                    }
                }
            }
        }
    }
}
