using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Tq.Core.Gguf;

/// <summary>
/// The key/value metadata of a GGUF file, in file order, with typed getters that name the key when it is missing
/// or of the wrong type.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "Named after the GGUF section it models.")]
public sealed class GgufMetadata : IReadOnlyDictionary<string, GgufValue>
{
    private readonly Dictionary<string, GgufValue> _values;
    private readonly List<string> _order;

    internal GgufMetadata(Dictionary<string, GgufValue> values, List<string> order)
    {
        _values = values;
        _order = order;
    }

    /// <inheritdoc />
    public int Count => _values.Count;

    /// <inheritdoc />
    public IEnumerable<string> Keys => _order;

    /// <inheritdoc />
    public IEnumerable<GgufValue> Values => _order.Select(k => _values[k]);

    /// <inheritdoc />
    public GgufValue this[string key] => _values.TryGetValue(key, out GgufValue? v) ? v : throw Missing(key);

    /// <inheritdoc />
    public bool ContainsKey(string key) => _values.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out GgufValue value) => _values.TryGetValue(key, out value);

    /// <summary>A required string value.</summary>
    /// <exception cref="KeyNotFoundException">The key is missing.</exception>
    /// <exception cref="InvalidCastException">The value is not a string.</exception>
    public string GetString(string key) => Get(key, v => v.AsString());

    /// <summary>An optional string value.</summary>
    public string? GetStringOrDefault(string key, string? defaultValue = null) => TryGetValue(key, out GgufValue? v) ? Convert(key, v, x => x.AsString()) : defaultValue;

    /// <summary>A required integer value.</summary>
    /// <exception cref="KeyNotFoundException">The key is missing.</exception>
    /// <exception cref="InvalidCastException">The value is not an integer that fits.</exception>
    public int GetInt32(string key) => Get(key, v => v.AsInt32());

    /// <summary>An optional integer value.</summary>
    public int GetInt32OrDefault(string key, int defaultValue) => TryGetValue(key, out GgufValue? v) ? Convert(key, v, x => x.AsInt32()) : defaultValue;

    /// <summary>An optional 64-bit integer value.</summary>
    public long GetInt64OrDefault(string key, long defaultValue) => TryGetValue(key, out GgufValue? v) ? Convert(key, v, x => x.AsInt64()) : defaultValue;

    /// <summary>An optional numeric value as a float.</summary>
    public float GetSingleOrDefault(string key, float defaultValue) => TryGetValue(key, out GgufValue? v) ? (float)Convert(key, v, x => x.AsDouble()) : defaultValue;

    /// <summary>An optional boolean value.</summary>
    public bool GetBooleanOrDefault(string key, bool defaultValue) => TryGetValue(key, out GgufValue? v) ? Convert(key, v, x => x.AsBoolean()) : defaultValue;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator() => _order.Select(k => new KeyValuePair<string, GgufValue>(k, _values[k])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private T Get<T>(string key, Func<GgufValue, T> convert) =>
        TryGetValue(key, out GgufValue? v) ? Convert(key, v, convert) : throw Missing(key);

    private static T Convert<T>(string key, GgufValue value, Func<GgufValue, T> convert)
    {
        try
        {
            return convert(value);
        }
        catch (InvalidCastException ex)
        {
            throw new InvalidCastException($"GGUF metadata '{key}': {ex.Message}", ex);
        }
    }

    private static KeyNotFoundException Missing(string key) => new($"GGUF metadata key '{key}' is missing.");
}
