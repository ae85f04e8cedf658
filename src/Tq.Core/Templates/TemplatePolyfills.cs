using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tq.Core.Templates;

/// <summary>
/// Capability probes and message adaptations, following llama.cpp's Jinja integration (minja's
/// <c>chat_template</c>): probe conversations with needle strings tell whether a template renders system
/// messages, tools and tool calls, and whether it needs tool-call arguments as objects.
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

        return new ChatTemplateCapabilities(system, tools, rendersString || rendersObject, !rendersString && rendersObject);
    }

    private static bool RendersArguments(string output) =>
        output.Contains("<parameter=argument_needle>", StringComparison.Ordinal)
        || output.Contains("\"argument_needle\":", StringComparison.Ordinal)
        || output.Contains("'argument_needle':", StringComparison.Ordinal);

    private static TemplateDictionary Message(string role, string content) => new() { ["role"] = role, ["content"] = content };

    private static TemplateDictionary ToolCallMessage(object arguments) => new()
    {
        ["role"] = "assistant",
        ["content"] = null,
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
    /// For templates without a system role: system texts are prepended to the next user message (joined with a
    /// newline), or become a user message of their own before any other role.
    /// </summary>
    public static List<object?> MergeSystemMessages(List<object?> messages)
    {
        var result = new List<object?>(messages.Count);
        string pending = string.Empty;
        void Flush()
        {
            if (pending.Length > 0)
            {
                result.Add(Message("user", pending));
                pending = string.Empty;
            }
        }

        foreach (object? item in messages)
        {
            if (item is not TemplateDictionary message)
            {
                result.Add(item);
                continue;
            }

            object? role = message.TryGetValue("role", out object? r) ? r : null;
            string content = message.TryGetValue("content", out object? c) && c is string s ? s : string.Empty;
            if (role is "system")
            {
                pending = pending.Length == 0 ? content : pending + "\n" + content;
                continue;
            }

            if (role is "user")
            {
                if (pending.Length > 0)
                {
                    message["content"] = content.Length == 0 ? pending : pending + "\n" + content;
                    pending = string.Empty;
                }
            }
            else
            {
                Flush();
            }

            result.Add(message);
        }

        Flush();
        return result;
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
