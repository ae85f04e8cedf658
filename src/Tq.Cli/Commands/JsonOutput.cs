using System.Text.Json;
using Microsoft.Extensions.AI;
using Tq.Core.Sampling;
using Tq.Core.Tokenization;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>--json</c> / <c>--json-schema</c> of <c>tq run</c> and <c>tq chat</c>: JSON output through the JSON stage of the
/// sampling chain (<see cref="JsonConstraint"/>), checked before the model loads.
/// </summary>
internal sealed class JsonOutput
{
    private JsonOutput(JsonElement? schema)
    {
        Schema = schema;
    }

    /// <summary>The schema; null for any JSON object.</summary>
    public JsonElement? Schema { get; }

    /// <summary>The chat client's response format for this output.</summary>
    public ChatResponseFormat ResponseFormat => Schema is { } schema ? ChatResponseFormat.ForJsonSchema(schema) : ChatResponseFormat.Json;

    /// <summary>Reads the two options; null when neither is given.</summary>
    /// <exception cref="ArgumentException">The schema is not a JSON object.</exception>
    public static JsonOutput? FromOptions(bool json, string? schemaText)
    {
        if (schemaText is null)
        {
            return json ? new JsonOutput(null) : null;
        }

        JsonElement schema;
        try
        {
            using JsonDocument document = JsonDocument.Parse(schemaText);
            schema = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--json-schema is not valid JSON: {e.Message}", e);
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"--json-schema must be a JSON Schema object ({{\"type\": ...}}); got a JSON {schema.ValueKind.ToString().ToLowerInvariant()}.");
        }

        return new JsonOutput(schema);
    }

    /// <summary>The JSON stage for <paramref name="tokenizer"/>.</summary>
    public JsonConstraint CreateConstraint(Tokenizer tokenizer) =>
        Schema is { } schema ? JsonConstraint.For(tokenizer, schema) : JsonConstraint.For(tokenizer);
}
