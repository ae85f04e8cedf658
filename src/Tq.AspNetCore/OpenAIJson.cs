using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tq.AspNetCore;

/// <summary>
/// Typed reads of request fields that never throw a .NET error: a field of the wrong type or out of range ends in an
/// <see cref="OpenAIRequestException"/> naming the field by its JSON path, in OpenAI's wording.
/// </summary>
internal static class OpenAIJson
{
    public static string KindName(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        },
    };

    public static OpenAIRequestException InvalidType(string path, string expected, JsonNode? actual) =>
        new($"Invalid type for '{path}': expected {expected}, but got {KindName(actual)} instead.", path, "invalid_type");

    public static OpenAIRequestException InvalidValue(string path, string message) =>
        new($"Invalid '{path}': {message}", path, "invalid_value");

    public static OpenAIRequestException Missing(string path) =>
        new($"Missing required parameter: '{path}'.", path, "missing_required_parameter");

    public static string? String(JsonNode? node, string path) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw InvalidType(path, "a string", node),
    };

    public static string RequiredString(JsonObject parent, string name, string path) =>
        String(parent[name], path) ?? throw Missing(path);

    public static bool? Bool(JsonNode? node, string path) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw InvalidType(path, "a boolean", node),
    };

    public static double? Number(JsonNode? node, string path, double min, double max)
    {
        if (node is null)
        {
            return null;
        }

        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue(out double value) || !double.IsFinite(value))
        {
            throw InvalidType(path, "a number", node);
        }

        if (value < min || value > max)
        {
            throw InvalidValue(path, string.Create(CultureInfo.InvariantCulture, $"expected a value between {min} and {max}, but got {value} instead."));
        }

        return value;
    }

    public static long? Integer(JsonNode? node, string path, long min, long max)
    {
        if (node is null)
        {
            return null;
        }

        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            throw InvalidType(path, "an integer", node);
        }

        if (!v.TryGetValue(out long value))
        {
            // A fraction, or an integer beyond 64 bits.
            throw v.TryGetValue(out double d) && double.IsFinite(d) && Math.Floor(d) == d
                ? InvalidValue(path, string.Create(CultureInfo.InvariantCulture, $"expected a value between {min} and {max}, but got {d} instead."))
                : InvalidType(path, "an integer", node);
        }

        if (value < min || value > max)
        {
            throw InvalidValue(path, string.Create(CultureInfo.InvariantCulture, $"expected a value between {min} and {max}, but got {value} instead."));
        }

        return value;
    }

    public static JsonObject? Object(JsonNode? node, string path) => node switch
    {
        null => null,
        JsonObject o => o,
        _ => throw InvalidType(path, "an object", node),
    };

    public static JsonArray? Array(JsonNode? node, string path) => node switch
    {
        null => null,
        JsonArray a => a,
        _ => throw InvalidType(path, "an array", node),
    };

    /// <summary>Refuses any key of <paramref name="o"/> not in <paramref name="known"/>: nothing is silently ignored.</summary>
    public static void RejectUnknown(JsonObject o, string path, params ReadOnlySpan<string> known)
    {
        foreach (KeyValuePair<string, JsonNode?> property in o)
        {
            if (!known.Contains(property.Key))
            {
                string at = path.Length == 0 ? property.Key : $"{path}.{property.Key}";
                throw new OpenAIRequestException($"Unrecognized request argument supplied: {at}", at, "unknown_parameter");
            }
        }
    }
}
