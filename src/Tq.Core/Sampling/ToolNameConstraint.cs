using System.Buffers;
using System.Text.Json;
using Tq.Core.Tokenization;

namespace Tq.Core.Sampling;

/// <summary>
/// A stage of the sampling chain for a forced tool call whose function is not named: the prompt ends where the call's
/// name begins (<c>{"name": </c>), and this stage lets the model write only one of the declared names, as a JSON string.
/// Once the name is complete it stops constraining, and the model writes the arguments freely.
/// </summary>
internal sealed class ToolNameConstraint : ISamplingConstraint
{
    private readonly JsonConstraint _name;

    /// <summary>Creates the stage for the declared <paramref name="names"/>.</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="names">The names the model may choose among (at least one).</param>
    public ToolNameConstraint(Tokenizer tokenizer, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
        {
            throw new ArgumentException("At least one tool name is required.", nameof(names));
        }

        _name = JsonConstraint.For(tokenizer, EnumSchema(names));
    }

    /// <summary>Whether the name is written (the stage no longer constrains).</summary>
    public bool IsComplete => _name.IsComplete;

    /// <inheritdoc />
    public void Apply(Span<float> logits)
    {
        if (!_name.IsComplete)
        {
            _name.Apply(logits);
        }
    }

    /// <inheritdoc />
    public void Accept(int token)
    {
        if (!_name.IsComplete)
        {
            _name.Accept(token);
        }
    }

    /// <inheritdoc />
    public void Reset() => _name.Reset();

    private static JsonElement EnumSchema(IReadOnlyList<string> names)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("enum");
            foreach (string name in names)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        using JsonDocument document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }
}
