using Tq.Core.Models;

namespace Tq.Core.Cache;

/// <summary>The shape a KV cache must hold: layers, heads, head sizes, capacity, and the RoPE the model applies.</summary>
internal sealed class KvCacheLayout
{
    /// <summary>Creates and validates a layout.</summary>
    /// <exception cref="ArgumentException">A non-positive size, or heads not a multiple of KV heads.</exception>
    public KvCacheLayout(int layers, int heads, int kvHeads, int keyLength, int valueLength, int capacity, RotaryEmbedding rope)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(valueLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentNullException.ThrowIfNull(rope);
        if (heads % kvHeads != 0)
        {
            throw new ArgumentException($"{heads} attention heads cannot be grouped over {kvHeads} KV heads.", nameof(kvHeads));
        }

        Layers = layers;
        Heads = heads;
        KvHeads = kvHeads;
        KeyLength = keyLength;
        ValueLength = valueLength;
        Capacity = capacity;
        Rope = rope;
        AttentionScale = 1.0f / MathF.Sqrt(keyLength);
    }

    /// <summary>Transformer layers.</summary>
    public int Layers { get; }

    /// <summary>Query heads.</summary>
    public int Heads { get; }

    /// <summary>Key/value heads (grouped-query attention: <see cref="Heads"/> / <see cref="KvHeads"/> queries share one).</summary>
    public int KvHeads { get; }

    /// <summary>Values per key head.</summary>
    public int KeyLength { get; }

    /// <summary>Values per value head.</summary>
    public int ValueLength { get; }

    /// <summary>The most tokens the cache holds (the context window).</summary>
    public int Capacity { get; }

    /// <summary>The rotation the model applies to queries and keys; a cache that stores pre-RoPE keys applies it itself.</summary>
    public RotaryEmbedding Rope { get; }

    /// <summary>The softmax scale of attention scores, 1/√<see cref="KeyLength"/>.</summary>
    public float AttentionScale { get; }

    /// <summary>Query heads per KV head.</summary>
    public int GroupSize => Heads / KvHeads;
}
