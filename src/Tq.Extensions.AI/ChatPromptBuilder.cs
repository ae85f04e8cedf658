using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI;

/// <summary>
/// Turns M.E.AI messages and tools into the OpenAI-shaped JSON a chat template renders (see docs/chat-templates.md):
/// assistant <see cref="FunctionCallContent"/> becomes <c>tool_calls</c> with JSON-string arguments, each
/// <see cref="FunctionResultContent"/> a <c>tool</c> message. For the <see cref="ToolCallFormat.Prompt"/> fallback,
/// whose template has no tool syntax, calls and results are written as text and the tools go into the system prompt.
/// </summary>
internal static class ChatPromptBuilder
{
    private static readonly JsonSerializerOptions s_compact = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    public static JsonArray BuildMessages(IEnumerable<ChatMessage> messages, string? instructions, ToolCallFormat format, IList<AITool>? promptTools)
    {
        var result = new JsonArray();
        string? system = instructions;
        if (format == ToolCallFormat.Prompt && promptTools is { Count: > 0 })
        {
            string toolText = ToolCallPrompt.CreateInstructions(promptTools);
            if (toolText.Length > 0)
            {
                system = string.IsNullOrEmpty(system) ? toolText : system + "\n\n" + toolText;
            }
        }

        bool first = true;
        foreach (ChatMessage message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            string role = message.Role.Value;
            var text = new StringBuilder();
            JsonArray? calls = null;
            List<JsonObject>? results = null;
            foreach (AIContent content in message.Contents)
            {
                switch (content)
                {
                    case TextContent t:
                        text.Append(t.Text);
                        break;
                    case FunctionCallContent call when format == ToolCallFormat.Prompt:
                        text.Append(text.Length > 0 ? "\n" : string.Empty)
                            .Append("```tool_call\n")
                            .Append(JsonSerializer.Serialize(new Dictionary<string, object?> { ["name"] = call.Name, ["arguments"] = call.Arguments }, s_compact))
                            .Append("\n```");
                        break;
                    case FunctionCallContent call:
                        (calls ??= []).Add(new JsonObject
                        {
                            ["id"] = call.CallId,
                            ["type"] = "function",
                            ["function"] = new JsonObject
                            {
                                ["name"] = call.Name,
                                ["arguments"] = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), s_compact),
                            },
                        });
                        break;
                    case FunctionResultContent fr when format == ToolCallFormat.Prompt:
                        (results ??= []).Add(new JsonObject
                        {
                            ["role"] = "user",
                            ["content"] = $"Result of tool call {fr.CallId}:\n{ResultText(fr)}",
                        });
                        break;
                    case FunctionResultContent fr:
                        (results ??= []).Add(new JsonObject
                        {
                            ["role"] = "tool",
                            ["tool_call_id"] = fr.CallId,
                            ["content"] = ResultText(fr),
                        });
                        break;
                    case DataContent or UriContent or HostedFileContent:
                        throw new NotSupportedException($"Message content of type {content.GetType().Name} is not supported: the local models are text-only.");
                    default:
                        // Reasoning text, usage and other metadata-only contents are not part of the prompt.
                        break;
                }
            }

            if (first && system is not null)
            {
                if (role == ChatRole.System.Value)
                {
                    text.Insert(0, system + "\n\n");
                }
                else
                {
                    result.Add(new JsonObject { ["role"] = "system", ["content"] = system });
                }
            }

            first = false;
            if (calls is not null || text.Length > 0 || results is null)
            {
                var node = new JsonObject { ["role"] = role, ["content"] = text.ToString() };
                if (calls is not null)
                {
                    node["tool_calls"] = calls;
                }

                result.Add(node);
            }

            foreach (JsonObject toolMessage in results ?? [])
            {
                result.Add(toolMessage);
            }
        }

        if (first && system is not null)
        {
            result.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }

        return result;
    }

    public static JsonArray? BuildTools(IList<AITool>? tools)
    {
        if (tools is null || tools.Count == 0)
        {
            return null;
        }

        var result = new JsonArray();
        foreach (AIFunctionDeclaration function in tools.OfType<AIFunctionDeclaration>())
        {
            result.Add(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = function.Name,
                    ["description"] = function.Description,
                    ["parameters"] = JsonNode.Parse(function.JsonSchema.GetRawText()),
                },
            });
        }

        return result.Count == 0 ? null : result;
    }

    private static string ResultText(FunctionResultContent result) => result.Result switch
    {
        null when result.Exception is not null => "Error: " + result.Exception.Message,
        null => string.Empty,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString()!,
        JsonElement e => e.GetRawText(),
        _ => JsonSerializer.Serialize(result.Result, s_compact),
    };
}
