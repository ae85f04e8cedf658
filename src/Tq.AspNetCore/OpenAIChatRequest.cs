using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace Tq.AspNetCore;

/// <summary>
/// The one validation layer of the endpoint: a chat-completions body read into M.E.AI messages and options, or an
/// <see cref="OpenAIRequestException"/> naming the first field that is missing, of the wrong type, out of range or not
/// understood. Fields the server cannot honour (<c>n</c> above 1, <c>logprobs</c>, image parts) are refused, not ignored.
/// </summary>
internal sealed partial class OpenAIChatRequest
{
    private static readonly string[] s_topLevel =
    [
        "model", "messages", "stream", "stream_options", "temperature", "top_p", "top_k", "min_p", "max_tokens",
        "max_completion_tokens", "seed", "stop", "frequency_penalty", "presence_penalty", "tools", "tool_choice",
        "parallel_tool_calls", "response_format", "n", "logprobs", "top_logprobs", "logit_bias", "user", "store",
        "metadata", "service_tier", "modalities",
    ];

    private OpenAIChatRequest(string? model, List<ChatMessage> messages, ChatOptions options, bool stream, bool includeUsage)
    {
        Model = model;
        Messages = messages;
        Options = options;
        Stream = stream;
        IncludeUsage = includeUsage;
    }

    /// <summary>The <c>model</c> field, or null when absent.</summary>
    public string? Model { get; }

    public List<ChatMessage> Messages { get; }

    public ChatOptions Options { get; }

    public bool Stream { get; }

    /// <summary><c>stream_options.include_usage</c>: a last chunk carries the usage, the others <c>usage: null</c>.</summary>
    public bool IncludeUsage { get; }

    /// <summary>Reads and validates a parsed body.</summary>
    /// <exception cref="OpenAIRequestException">The body is not a valid request.</exception>
    public static OpenAIChatRequest Parse(JsonNode? body)
    {
        JsonObject r = body as JsonObject ?? throw new OpenAIRequestException($"The request body must be a JSON object, but got {OpenAIJson.KindName(body)} instead.", null, "invalid_type");
        OpenAIJson.RejectUnknown(r, string.Empty, s_topLevel);
        string? model = OpenAIJson.String(r["model"], "model");
        JsonArray messagesNode = OpenAIJson.Array(r["messages"], "messages") ?? throw OpenAIJson.Missing("messages");
        if (messagesNode.Count == 0)
        {
            throw OpenAIJson.InvalidValue("messages", "expected at least one message, but got an empty array instead.");
        }

        List<ChatMessage> messages = ParseMessages(messagesNode);
        RefuseUnsupported(r);
        bool stream = OpenAIJson.Bool(r["stream"], "stream") ?? false;
        bool includeUsage = false;
        if (OpenAIJson.Object(r["stream_options"], "stream_options") is JsonObject streamOptions)
        {
            if (!stream)
            {
                throw OpenAIJson.InvalidValue("stream_options", "only allowed when 'stream' is true.");
            }

            OpenAIJson.RejectUnknown(streamOptions, "stream_options", "include_usage");
            includeUsage = OpenAIJson.Bool(streamOptions["include_usage"], "stream_options.include_usage") ?? false;
        }

        return new OpenAIChatRequest(model, messages, ParseOptions(r), stream, includeUsage);
    }

    private static void RefuseUnsupported(JsonObject r)
    {
        if (OpenAIJson.Integer(r["n"], "n", 1, 128) is > 1)
        {
            throw OpenAIJson.InvalidValue("n", "this server returns one choice per request; 'n' must be 1.");
        }

        if (OpenAIJson.Bool(r["logprobs"], "logprobs") == true)
        {
            throw OpenAIJson.InvalidValue("logprobs", "log probabilities are not supported by this server.");
        }

        if (r["top_logprobs"] is not null)
        {
            throw OpenAIJson.InvalidValue("top_logprobs", "log probabilities are not supported by this server.");
        }

        if (OpenAIJson.Object(r["logit_bias"], "logit_bias") is { Count: > 0 })
        {
            throw OpenAIJson.InvalidValue("logit_bias", "logit bias is not supported by this server.");
        }

        if (OpenAIJson.Array(r["modalities"], "modalities") is JsonArray modalities
            && (modalities.Count != 1 || OpenAIJson.String(modalities[0], "modalities[0]") != "text"))
        {
            throw OpenAIJson.InvalidValue("modalities", "this server produces text only; use [\"text\"] or omit it.");
        }

        // Accepted and without effect on a local model: user (an end-user id), store, metadata, service_tier.
        _ = OpenAIJson.String(r["user"], "user");
        _ = OpenAIJson.Bool(r["store"], "store");
        _ = OpenAIJson.Object(r["metadata"], "metadata");
        _ = OpenAIJson.String(r["service_tier"], "service_tier");
    }

    private static List<ChatMessage> ParseMessages(JsonArray array)
    {
        var messages = new List<ChatMessage>(array.Count);
        for (int i = 0; i < array.Count; i++)
        {
            string path = $"messages[{i}]";
            JsonObject m = array[i] as JsonObject ?? throw OpenAIJson.InvalidType(path, "an object", array[i]);
            string role = OpenAIJson.RequiredString(m, "role", path + ".role");
            string? name = OpenAIJson.String(m["name"], path + ".name");
            switch (role)
            {
                case "system" or "developer" or "user":
                    OpenAIJson.RejectUnknown(m, path, "role", "content", "name");
                    messages.Add(new ChatMessage(role == "user" ? ChatRole.User : ChatRole.System, Text(m["content"], path + ".content") ?? throw OpenAIJson.Missing(path + ".content")) { AuthorName = name });
                    break;
                case "assistant":
                    OpenAIJson.RejectUnknown(m, path, "role", "content", "name", "tool_calls", "refusal");
                    messages.Add(Assistant(m, path, name));
                    break;
                case "tool":
                    OpenAIJson.RejectUnknown(m, path, "role", "content", "tool_call_id", "name");
                    string callId = OpenAIJson.RequiredString(m, "tool_call_id", path + ".tool_call_id");
                    string result = Text(m["content"], path + ".content") ?? throw OpenAIJson.Missing(path + ".content");
                    messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(callId, result)]));
                    break;
                default:
                    throw OpenAIJson.InvalidValue(path + ".role", $"'{role}' is not one of 'system', 'developer', 'user', 'assistant' or 'tool'.");
            }
        }

        return messages;
    }

    private static ChatMessage Assistant(JsonObject m, string path, string? name)
    {
        _ = OpenAIJson.String(m["refusal"], path + ".refusal");
        var contents = new List<AIContent>();
        string? text = Text(m["content"], path + ".content");
        if (!string.IsNullOrEmpty(text))
        {
            contents.Add(new TextContent(text));
        }

        JsonArray? calls = OpenAIJson.Array(m["tool_calls"], path + ".tool_calls");
        for (int j = 0; j < (calls?.Count ?? 0); j++)
        {
            string at = $"{path}.tool_calls[{j}]";
            JsonObject call = calls![j] as JsonObject ?? throw OpenAIJson.InvalidType(at, "an object", calls[j]);
            OpenAIJson.RejectUnknown(call, at, "id", "type", "function", "index");
            string id = OpenAIJson.RequiredString(call, "id", at + ".id");
            if (OpenAIJson.String(call["type"], at + ".type") is string type && type != "function")
            {
                throw OpenAIJson.InvalidValue(at + ".type", $"'{type}' is not supported; tool calls are of type 'function'.");
            }

            JsonObject function = OpenAIJson.Object(call["function"], at + ".function") ?? throw OpenAIJson.Missing(at + ".function");
            OpenAIJson.RejectUnknown(function, at + ".function", "name", "arguments");
            string functionName = OpenAIJson.RequiredString(function, "name", at + ".function.name");
            string arguments = OpenAIJson.String(function["arguments"], at + ".function.arguments") ?? "{}";
            contents.Add(new FunctionCallContent(id, functionName, Arguments(arguments, at + ".function.arguments")));
        }

        if (contents.Count == 0 && m["content"] is null)
        {
            throw OpenAIJson.Missing(path + ".content");
        }

        return new ChatMessage(ChatRole.Assistant, contents) { AuthorName = name };
    }

    private static Dictionary<string, object?> Arguments(string json, string path)
    {
        try
        {
            if (JsonNode.Parse(json) is JsonObject)
            {
                return JsonSerializer.Deserialize(json, (JsonTypeInfo<Dictionary<string, object?>>)AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Dictionary<string, object?>)))!;
            }
        }
        catch (JsonException)
        {
        }

        throw OpenAIJson.InvalidValue(path, "expected a string holding a JSON object.");
    }

    /// <summary>A content field: a string, or an array of text parts; null when absent.</summary>
    private static string? Text(JsonNode? content, string path)
    {
        switch (content)
        {
            case null:
                return null;
            case JsonArray parts:
                var text = new System.Text.StringBuilder();
                for (int j = 0; j < parts.Count; j++)
                {
                    string at = $"{path}[{j}]";
                    JsonObject part = parts[j] as JsonObject ?? throw OpenAIJson.InvalidType(at, "an object", parts[j]);
                    string type = OpenAIJson.RequiredString(part, "type", at + ".type");
                    if (type != "text")
                    {
                        throw new OpenAIRequestException($"Invalid '{at}.type': content parts of type '{type}' are not supported: the model is text-only.", at + ".type", "unsupported_content");
                    }

                    OpenAIJson.RejectUnknown(part, at, "type", "text");
                    text.Append(OpenAIJson.RequiredString(part, "text", at + ".text"));
                }

                return text.ToString();
            default:
                return OpenAIJson.String(content, path);
        }
    }

    private static ChatOptions ParseOptions(JsonObject r)
    {
        var options = new ChatOptions
        {
            Temperature = (float?)OpenAIJson.Number(r["temperature"], "temperature", 0, 2),
            TopK = (int?)OpenAIJson.Integer(r["top_k"], "top_k", 0, int.MaxValue),
            Seed = OpenAIJson.Integer(r["seed"], "seed", long.MinValue, long.MaxValue),
            FrequencyPenalty = (float?)OpenAIJson.Number(r["frequency_penalty"], "frequency_penalty", -2, 2),
            PresencePenalty = (float?)OpenAIJson.Number(r["presence_penalty"], "presence_penalty", -2, 2),
            AllowMultipleToolCalls = OpenAIJson.Bool(r["parallel_tool_calls"], "parallel_tool_calls"),
        };
        if (OpenAIJson.Number(r["top_p"], "top_p", 0, 1) is double topP)
        {
            if (topP == 0)
            {
                throw OpenAIJson.InvalidValue("top_p", "expected a value above 0 and at most 1, but got 0 instead.");
            }

            options.TopP = (float)topP;
        }

        long? maxTokens = OpenAIJson.Integer(r["max_tokens"], "max_tokens", 1, int.MaxValue);
        long? maxCompletionTokens = OpenAIJson.Integer(r["max_completion_tokens"], "max_completion_tokens", 1, int.MaxValue);
        if (maxTokens is not null && maxCompletionTokens is not null && maxTokens != maxCompletionTokens)
        {
            throw OpenAIJson.InvalidValue("max_tokens", "'max_tokens' and 'max_completion_tokens' disagree; send one of them.");
        }

        options.MaxOutputTokens = (int?)(maxCompletionTokens ?? maxTokens);
        if (OpenAIJson.Number(r["min_p"], "min_p", 0, 1) is double minP)
        {
            (options.AdditionalProperties ??= [])["min_p"] = (float)minP;
        }

        options.StopSequences = Stop(r["stop"]);
        options.ResponseFormat = ResponseFormat(r["response_format"]);
        List<AITool>? tools = Tools(r["tools"]);
        options.Tools = tools;
        options.ToolMode = ToolChoice(r["tool_choice"], tools);
        return options;
    }

    private static List<string>? Stop(JsonNode? node)
    {
        if (node is JsonArray array)
        {
            var stops = new List<string>(array.Count);
            for (int i = 0; i < array.Count; i++)
            {
                stops.Add(NonEmpty(OpenAIJson.String(array[i], $"stop[{i}]") ?? throw OpenAIJson.InvalidType($"stop[{i}]", "a string", null), $"stop[{i}]"));
            }

            return stops;
        }

        return node is null ? null : [NonEmpty(OpenAIJson.String(node, "stop")!, "stop")];

        static string NonEmpty(string s, string path) => s.Length > 0 ? s : throw OpenAIJson.InvalidValue(path, "a stop sequence must not be empty.");
    }

    private static ChatResponseFormatJson? ResponseFormat(JsonNode? node)
    {
        if (OpenAIJson.Object(node, "response_format") is not JsonObject format)
        {
            return null;
        }

        OpenAIJson.RejectUnknown(format, "response_format", "type", "json_schema");
        string type = OpenAIJson.RequiredString(format, "type", "response_format.type");
        switch (type)
        {
            case "text":
                return null;
            case "json_object":
                return ChatResponseFormat.Json;
            case "json_schema":
                JsonObject spec = OpenAIJson.Object(format["json_schema"], "response_format.json_schema") ?? throw OpenAIJson.Missing("response_format.json_schema");
                OpenAIJson.RejectUnknown(spec, "response_format.json_schema", "name", "schema", "description", "strict");
                string name = OpenAIJson.RequiredString(spec, "name", "response_format.json_schema.name");
                string? description = OpenAIJson.String(spec["description"], "response_format.json_schema.description");
                _ = OpenAIJson.Bool(spec["strict"], "response_format.json_schema.strict");
                JsonObject schema = OpenAIJson.Object(spec["schema"], "response_format.json_schema.schema") ?? throw OpenAIJson.Missing("response_format.json_schema.schema");
                return ChatResponseFormat.ForJsonSchema(Element(schema), name, description);
            default:
                throw OpenAIJson.InvalidValue("response_format.type", $"'{type}' is not one of 'text', 'json_object' or 'json_schema'.");
        }
    }

    private static List<AITool>? Tools(JsonNode? node)
    {
        if (OpenAIJson.Array(node, "tools") is not JsonArray array)
        {
            return null;
        }

        if (array.Count == 0)
        {
            throw OpenAIJson.InvalidValue("tools", "expected at least one tool; omit 'tools' to offer none.");
        }

        var tools = new List<AITool>(array.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < array.Count; i++)
        {
            string path = $"tools[{i}]";
            JsonObject tool = array[i] as JsonObject ?? throw OpenAIJson.InvalidType(path, "an object", array[i]);
            OpenAIJson.RejectUnknown(tool, path, "type", "function");
            string type = OpenAIJson.RequiredString(tool, "type", path + ".type");
            if (type != "function")
            {
                throw OpenAIJson.InvalidValue(path + ".type", $"'{type}' is not supported; tools are of type 'function'.");
            }

            JsonObject function = OpenAIJson.Object(tool["function"], path + ".function") ?? throw OpenAIJson.Missing(path + ".function");
            OpenAIJson.RejectUnknown(function, path + ".function", "name", "description", "parameters", "strict");
            string name = OpenAIJson.RequiredString(function, "name", path + ".function.name");
            if (!ToolName().IsMatch(name))
            {
                throw OpenAIJson.InvalidValue(path + ".function.name", "a function name has 1 to 64 letters, digits, underscores or dashes.");
            }

            if (!names.Add(name))
            {
                throw OpenAIJson.InvalidValue(path + ".function.name", $"the function '{name}' is declared twice.");
            }

            string? description = OpenAIJson.String(function["description"], path + ".function.description");
            _ = OpenAIJson.Bool(function["strict"], path + ".function.strict");
            JsonObject parameters = OpenAIJson.Object(function["parameters"], path + ".function.parameters") ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            tools.Add(AIFunctionFactory.CreateDeclaration(name, description, Element(parameters)));
        }

        return tools;
    }

    private static ChatToolMode? ToolChoice(JsonNode? node, List<AITool>? tools)
    {
        ChatToolMode? mode;
        string? name = null;
        switch (node)
        {
            case null:
                return null;
            case JsonObject o:
                OpenAIJson.RejectUnknown(o, "tool_choice", "type", "function");
                if (OpenAIJson.RequiredString(o, "type", "tool_choice.type") != "function")
                {
                    throw OpenAIJson.InvalidValue("tool_choice.type", "expected 'function'.");
                }

                JsonObject function = OpenAIJson.Object(o["function"], "tool_choice.function") ?? throw OpenAIJson.Missing("tool_choice.function");
                OpenAIJson.RejectUnknown(function, "tool_choice.function", "name");
                name = OpenAIJson.RequiredString(function, "name", "tool_choice.function.name");
                if (tools?.Any(t => t.Name == name) != true)
                {
                    throw OpenAIJson.InvalidValue("tool_choice.function.name", tools is null
                        ? "a tool call is required but 'tools' declares none."
                        : $"the function '{name}' is not among 'tools'.");
                }

                mode = ChatToolMode.RequireSpecific(name);
                break;
            default:
                mode = OpenAIJson.String(node, "tool_choice") switch
                {
                    "none" => ChatToolMode.None,
                    "auto" => ChatToolMode.Auto,
                    "required" => ChatToolMode.RequireAny,
                    string other => throw OpenAIJson.InvalidValue("tool_choice", $"'{other}' is not one of 'none', 'auto' or 'required', or a function object."),
                    null => null,
                };
                break;
        }

        if (mode is RequiredChatToolMode && tools is null)
        {
            throw OpenAIJson.InvalidValue("tool_choice", "a tool call is required but 'tools' declares none.");
        }

        return mode;
    }

    /// <summary>A JSON object of the request as a standalone element (no serializer, so nothing to trim).</summary>
    private static JsonElement Element(JsonObject node)
    {
        using JsonDocument document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex ToolName();
}
