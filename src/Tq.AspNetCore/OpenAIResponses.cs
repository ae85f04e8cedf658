using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.AI;

namespace Tq.AspNetCore;

/// <summary>The JSON shapes of OpenAI's chat-completion responses, chunks, models and errors.</summary>
internal static class OpenAIResponses
{
    /// <summary>Reported as <c>system_fingerprint</c>: the endpoint library's version.</summary>
    public static readonly string SystemFingerprint = "tq-" + (typeof(OpenAIResponses).Assembly.GetName().Version?.ToString(3) ?? "0");

    private static readonly JsonTypeInfo<IDictionary<string, object?>> s_arguments =
        (JsonTypeInfo<IDictionary<string, object?>>)new JsonSerializerOptions(AIJsonUtilities.DefaultOptions) { WriteIndented = false }.GetTypeInfo(typeof(IDictionary<string, object?>));

    public static JsonObject Chunk(string id, long created, string model, JsonObject? delta, ChatFinishReason? finish, bool usageField) 
    {
        var chunk = new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["system_fingerprint"] = SystemFingerprint,
            ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["delta"] = delta,
                ["logprobs"] = null,
                ["finish_reason"] = finish?.Value,
            }),
        };
        if (usageField)
        {
            chunk["usage"] = null;
        }

        return chunk;
    }

    public static JsonObject Completion(ChatResponse response, string model)
    {
        var message = new JsonObject { ["role"] = "assistant" };
        JsonArray? calls = null;
        foreach (FunctionCallContent call in response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>())
        {
            (calls ??= []).Add((JsonNode)ToolCall(call));
        }

        message["content"] = calls is not null && response.Text.Length == 0 ? null : response.Text;
        message["refusal"] = null;
        if (calls is not null)
        {
            message["tool_calls"] = calls;
        }

        var result = new JsonObject
        {
            ["id"] = response.ResponseId ?? "chatcmpl-" + Guid.NewGuid().ToString("N"),
            ["object"] = "chat.completion",
            ["created"] = (response.CreatedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(),
            ["model"] = response.ModelId ?? model,
            ["system_fingerprint"] = SystemFingerprint,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = FinishReason(response.FinishReason, calls is not null),
            }),
            ["usage"] = response.Usage is null ? null : Usage(response.Usage),
        };
        return result;
    }

    public static string FinishReason(ChatFinishReason? reason, bool calls) => reason?.Value ?? (calls ? "tool_calls" : "stop");

    public static JsonObject ToolCall(FunctionCallContent call) => new()
    {
        ["id"] = call.CallId,
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = call.Name,
            ["arguments"] = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), s_arguments),
        },
    };

    public static JsonObject Usage(UsageDetails usage) => new()
    {
        ["prompt_tokens"] = usage.InputTokenCount ?? 0,
        ["completion_tokens"] = usage.OutputTokenCount ?? 0,
        ["total_tokens"] = usage.TotalTokenCount ?? (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0),
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CachedInputTokenCount ?? 0 },
    };

    public static JsonObject Model(string id, long created) => new()
    {
        ["id"] = id,
        ["object"] = "model",
        ["created"] = created,
        ["owned_by"] = "tq",
    };

    public static JsonObject Error(string message, string type, string? param, string? code) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = type,
            ["param"] = param,
            ["code"] = code,
        },
    };
}
