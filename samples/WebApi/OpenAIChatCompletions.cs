using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Tq.Core.Inference;

namespace TqConnector.Samples.WebApi;

/// <summary>
/// <c>POST /v1/chat/completions</c> in OpenAI's wire format over any <see cref="IChatClient"/>: messages (with tool calls
/// and tool results), tools and <c>tool_choice</c>, sampling fields, <c>response_format</c>, and <c>stream</c> (server-sent
/// events, with <c>stream_options.include_usage</c>). The <c>model</c> field is echoed, not used: the app serves one model.
/// </summary>
internal static class OpenAIChatCompletions
{
    private static readonly JsonSerializerOptions s_compact = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    public static async Task HandleAsync(HttpContext context, IChatClient chat)
    {
        CancellationToken cancellationToken = context.RequestAborted;
        JsonObject request;
        List<ChatMessage> messages;
        ChatOptions options;
        try
        {
            request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: cancellationToken) as JsonObject
                ?? throw new ArgumentException("The body must be a JSON object.");
            messages = ParseMessages(request["messages"] as JsonArray ?? throw new ArgumentException("'messages' is required and must be an array."));
            options = ParseOptions(request);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException or NotSupportedException)
        {
            await WriteErrorAsync(context, e.Message);
            return;
        }

        bool stream = request["stream"]?.GetValue<bool>() == true;
        bool includeUsage = request["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
        IAsyncEnumerator<ChatResponseUpdate> updates = chat.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (updates.ConfigureAwait(false))
        {
            bool any;
            try
            {
                any = await updates.MoveNextAsync(); // request errors surface here, before the response starts
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or ContextOverflowException)
            {
                await WriteErrorAsync(context, e.Message);
                return;
            }

            if (stream)
            {
                await StreamAsync(context, updates, any, includeUsage, cancellationToken);
                return;
            }

            var collected = new List<ChatResponseUpdate>();
            while (any)
            {
                collected.Add(updates.Current);
                any = await updates.MoveNextAsync();
            }

            await context.Response.WriteAsJsonAsync(Completion(collected.ToChatResponse()), cancellationToken);
        }
    }

    private static async Task StreamAsync(HttpContext context, IAsyncEnumerator<ChatResponseUpdate> updates, bool any, bool includeUsage, CancellationToken cancellationToken)
    {
        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        bool first = true;
        int toolIndex = 0;
        UsageDetails? usage = null;
        string id = string.Empty, model = string.Empty;
        long created = 0;
        while (any)
        {
            ChatResponseUpdate update = updates.Current;
            id = update.ResponseId ?? id;
            model = update.ModelId ?? model;
            created = (update.CreatedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
            var delta = new JsonObject();
            if (first)
            {
                delta["role"] = "assistant";
                first = false;
            }

            string text = update.Text;
            if (text.Length > 0)
            {
                delta["content"] = text;
            }

            JsonArray? calls = null;
            foreach (AIContent content in update.Contents)
            {
                switch (content)
                {
                    case FunctionCallContent call:
                        JsonObject node = ToolCall(call);
                        node.Insert(0, "index", toolIndex++);
                        (calls ??= []).Add(node);
                        break;
                    case UsageContent u:
                        usage = u.Details;
                        break;
                }
            }

            if (calls is not null)
            {
                delta["tool_calls"] = calls;
            }

            if (delta.Count > 0 || update.FinishReason is not null)
            {
                await WriteEventAsync(response, Chunk(id, created, model, delta, update.FinishReason), cancellationToken);
            }

            any = await updates.MoveNextAsync();
        }

        if (includeUsage && usage is not null)
        {
            var chunk = Chunk(id, created, model, null, null);
            chunk["usage"] = Usage(usage);
            await WriteEventAsync(response, chunk, cancellationToken);
        }

        await response.WriteAsync("data: [DONE]\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static JsonObject Chunk(string id, long created, string model, JsonObject? delta, ChatFinishReason? finish) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["finish_reason"] = finish?.Value,
        }),
    };

    private static JsonObject Completion(ChatResponse response)
    {
        var message = new JsonObject { ["role"] = "assistant" };
        JsonArray? calls = null;
        foreach (FunctionCallContent call in response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>())
        {
            (calls ??= []).Add(ToolCall(call));
        }

        message["content"] = calls is not null && response.Text.Length == 0 ? null : response.Text;
        if (calls is not null)
        {
            message["tool_calls"] = calls;
        }

        var result = new JsonObject
        {
            ["id"] = response.ResponseId,
            ["object"] = "chat.completion",
            ["created"] = (response.CreatedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(),
            ["model"] = response.ModelId,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["finish_reason"] = response.FinishReason?.Value ?? "stop",
            }),
        };
        if (response.Usage is not null)
        {
            result["usage"] = Usage(response.Usage);
        }

        return result;
    }

    private static JsonObject ToolCall(FunctionCallContent call) => new()
    {
        ["id"] = call.CallId,
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = call.Name,
            ["arguments"] = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), s_compact),
        },
    };

    private static JsonObject Usage(UsageDetails usage) => new()
    {
        ["prompt_tokens"] = usage.InputTokenCount ?? 0,
        ["completion_tokens"] = usage.OutputTokenCount ?? 0,
        ["total_tokens"] = usage.TotalTokenCount ?? 0,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CachedInputTokenCount ?? 0 },
    };

    private static List<ChatMessage> ParseMessages(JsonArray array)
    {
        var messages = new List<ChatMessage>();
        foreach (JsonNode? node in array)
        {
            if (node is not JsonObject m)
            {
                throw new ArgumentException("Every message must be an object.");
            }

            string role = m["role"]?.GetValue<string>() ?? throw new ArgumentException("Every message needs a 'role'.");
            string text = ContentText(m["content"]);
            if (role == "tool")
            {
                string callId = m["tool_call_id"]?.GetValue<string>() ?? throw new ArgumentException("A tool message needs 'tool_call_id'.");
                messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(callId, text)]));
                continue;
            }

            var contents = new List<AIContent>();
            if (text.Length > 0)
            {
                contents.Add(new TextContent(text));
            }

            foreach (JsonNode? call in m["tool_calls"] as JsonArray ?? [])
            {
                JsonNode function = call?["function"] ?? throw new ArgumentException("A tool call needs a 'function'.");
                string arguments = function["arguments"]?.GetValue<string>() ?? "{}";
                contents.Add(new FunctionCallContent(
                    call["id"]?.GetValue<string>() ?? throw new ArgumentException("A tool call needs an 'id'."),
                    function["name"]?.GetValue<string>() ?? throw new ArgumentException("A tool call needs a function 'name'."),
                    JsonSerializer.Deserialize<Dictionary<string, object?>>(arguments, AIJsonUtilities.DefaultOptions)));
            }

            messages.Add(new ChatMessage(role == "developer" ? ChatRole.System : new ChatRole(role), contents));
        }

        return messages;
    }

    private static string ContentText(JsonNode? content) => content switch
    {
        null => string.Empty,
        JsonValue v => v.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["type"]?.GetValue<string>() == "text"
            ? p["text"]?.GetValue<string>()
            : throw new NotSupportedException($"Content parts of type '{p?["type"]}' are not supported: the model is text-only."))),
        _ => throw new ArgumentException("'content' must be a string or an array of parts."),
    };

    private static ChatOptions ParseOptions(JsonObject r)
    {
        var options = new ChatOptions
        {
            Temperature = r["temperature"]?.GetValue<float>(),
            TopP = r["top_p"]?.GetValue<float>(),
            TopK = r["top_k"]?.GetValue<int>(),
            MaxOutputTokens = (r["max_completion_tokens"] ?? r["max_tokens"])?.GetValue<int>(),
            Seed = r["seed"]?.GetValue<long>(),
            FrequencyPenalty = r["frequency_penalty"]?.GetValue<float>(),
            PresencePenalty = r["presence_penalty"]?.GetValue<float>(),
            AllowMultipleToolCalls = r["parallel_tool_calls"]?.GetValue<bool>(),
        };
        options.StopSequences = r["stop"] switch
        {
            null => null,
            JsonValue v => [v.GetValue<string>()],
            JsonArray a => a.Select(s => s!.GetValue<string>()).ToList(),
            _ => throw new ArgumentException("'stop' must be a string or an array of strings."),
        };
        if (r["min_p"] is JsonNode minP)
        {
            (options.AdditionalProperties ??= [])["min_p"] = minP.GetValue<float>();
        }

        options.ResponseFormat = r["response_format"]?["type"]?.GetValue<string>() switch
        {
            null or "text" => null,
            "json_object" => ChatResponseFormat.Json,
            "json_schema" => ChatResponseFormat.ForJsonSchema(
                JsonSerializer.SerializeToElement(r["response_format"]!["json_schema"]?["schema"]),
                r["response_format"]!["json_schema"]?["name"]?.GetValue<string>()),
            string other => throw new ArgumentException($"response_format type '{other}' is not supported."),
        };
        if (r["tools"] is JsonArray tools)
        {
            options.Tools = [];
            foreach (JsonNode? tool in tools)
            {
                JsonNode function = tool?["function"] ?? throw new ArgumentException("A tool needs a 'function'.");
                JsonNode parameters = function["parameters"]?.DeepClone() ?? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
                options.Tools.Add(AIFunctionFactory.CreateDeclaration(
                    function["name"]?.GetValue<string>() ?? throw new ArgumentException("A tool function needs a 'name'."),
                    function["description"]?.GetValue<string>(),
                    JsonSerializer.SerializeToElement(parameters)));
            }
        }

        options.ToolMode = r["tool_choice"] switch
        {
            null => null,
            JsonValue v => v.GetValue<string>() switch
            {
                "none" => ChatToolMode.None,
                "auto" => ChatToolMode.Auto,
                "required" => ChatToolMode.RequireAny,
                string other => throw new ArgumentException($"tool_choice '{other}' is not supported."),
            },
            JsonObject o => ChatToolMode.RequireSpecific(o["function"]?["name"]?.GetValue<string>() ?? throw new ArgumentException("tool_choice needs function.name.")),
            _ => throw new ArgumentException("tool_choice must be a string or an object."),
        };
        return options;
    }

    private static async Task WriteEventAsync(HttpResponse response, JsonObject chunk, CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static Task WriteErrorAsync(HttpContext context, string message)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return context.Response.WriteAsJsonAsync(
            new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error" } },
            context.RequestAborted);
    }
}
