using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
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
    // M.E.AI's options resolve through its source-generated contexts (no reflection when trimmed or AOT-compiled); values
    // of types it does not know (a tool's own result type) fall back to reflection where the app allows it.
    private static readonly JsonTypeInfo<object?> s_anyValue = (JsonTypeInfo<object?>)AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(object));
    private static readonly JsonTypeInfo<IDictionary<string, object?>> s_arguments =
        (JsonTypeInfo<IDictionary<string, object?>>)AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>));

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
                            .Append(new JsonObject { ["name"] = call.Name, ["arguments"] = ArgumentsNode(call.Arguments) }.ToJsonString())
                            .Append("\n```");
                        break;
                    case FunctionCallContent call:
                        (calls ??= []).Add((JsonNode)new JsonObject
                        {
                            ["id"] = call.CallId,
                            ["type"] = "function",
                            ["function"] = new JsonObject
                            {
                                ["name"] = call.Name,
                                ["arguments"] = (ArgumentsNode(call.Arguments) ?? new JsonObject()).ToJsonString(),
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
                    result.Add((JsonNode)new JsonObject { ["role"] = "system", ["content"] = system });
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

                result.Add((JsonNode)node);
            }

            foreach (JsonObject toolMessage in results ?? [])
            {
                result.Add((JsonNode)toolMessage);
            }
        }

        if (first && system is not null)
        {
            result.Add((JsonNode)new JsonObject { ["role"] = "system", ["content"] = system });
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
            result.Add((JsonNode)new JsonObject
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
        _ => JsonSerializer.Serialize(result.Result, s_anyValue),
    };

    private static JsonNode? ArgumentsNode(IDictionary<string, object?>? arguments) =>
        arguments is null ? null : JsonSerializer.SerializeToNode(arguments, s_arguments);
}
