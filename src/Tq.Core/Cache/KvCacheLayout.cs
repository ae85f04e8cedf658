using Tq.Core.Models;

namespace Tq.Core.Cache;

/// <summary>
/// The shape a KV cache must hold: layers, heads, head sizes, capacity, and how each layer attends (its RoPE, score
/// scale, soft-cap and sliding window).
/// </summary>
internal sealed class KvCacheLayout
{
    /// <summary>Creates a layout whose layers all attend alike: scale 1/√<paramref name="keyLength"/>, no cap, no window.</summary>
    /// <exception cref="ArgumentException">A non-positive size, or heads not a multiple of KV heads.</exception>
    public KvCacheLayout(int layers, int heads, int kvHeads, int keyLength, int valueLength, int capacity, RotaryEmbedding rope)
        : this(heads, kvHeads, keyLength, valueLength, capacity, Uniform(layers, rope, keyLength))
    {
    }

    /// <summary>Creates and validates a layout with one <see cref="LayerAttention"/> per layer.</summary>
    /// <exception cref="ArgumentException">A non-positive size, heads not a multiple of KV heads, or RoPEs of different table lengths.</exception>
    /// <param name="heads">Query heads.</param>
    /// <param name="kvHeads">Key/value heads.</param>
    /// <param name="keyLength">Values per key head.</param>
    /// <param name="valueLength">Values per value head.</param>
    /// <param name="capacity">The most tokens of the sequence.</param>
    /// <param name="attention">How each layer attends.</param>
    /// <param name="maxBatch">The most tokens stored at once (sizes the ring of sliding-window layers); 0 means the capacity.</param>
    public KvCacheLayout(int heads, int kvHeads, int keyLength, int valueLength, int capacity, IReadOnlyList<LayerAttention> attention, int maxBatch = 0)
    {
        ArgumentNullException.ThrowIfNull(attention);
        ArgumentOutOfRangeException.ThrowIfZero(attention.Count, nameof(attention));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(valueLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        if (heads % kvHeads != 0)
        {
            throw new ArgumentException($"{heads} attention heads cannot be grouped over {kvHeads} KV heads.", nameof(kvHeads));
        }

        var ropes = new List<RotaryEmbedding>();
        var ropeIndex = new int[attention.Count];
        for (int l = 0; l < attention.Count; l++)
        {
            RotaryEmbedding rope = attention[l].Rope;
            if (rope.TableLength != attention[0].Rope.TableLength)
            {
                throw new ArgumentException($"Layer {l}'s RoPE table has {rope.TableLength} floats; layer 0's has {attention[0].Rope.TableLength}.", nameof(attention));
            }

            int index = ropes.IndexOf(rope);
            if (index < 0)
            {
                index = ropes.Count;
                ropes.Add(rope);
            }

            ropeIndex[l] = index;
        }

        Layers = attention.Count;
        Heads = heads;
        KvHeads = kvHeads;
        KeyLength = keyLength;
        ValueLength = valueLength;
        Capacity = capacity;
        MaxBatch = maxBatch > 0 ? Math.Min(maxBatch, capacity) : capacity;
        Attention = attention;
        Ropes = ropes;
        _ropeIndex = ropeIndex;
    }

    private readonly int[] _ropeIndex;

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

    /// <summary>The most tokens stored in one call (a sliding-window layer keeps its window plus this many rows).</summary>
    public int MaxBatch { get; }

    /// <summary>How each layer attends.</summary>
    public IReadOnlyList<LayerAttention> Attention { get; }

    /// <summary>The distinct RoPEs of the layers (one, or two for models with a separate base on sliding layers).</summary>
    public IReadOnlyList<RotaryEmbedding> Ropes { get; }

    /// <summary>The rotation of layer 0 (every layer's, unless <see cref="Ropes"/> holds more than one).</summary>
    public RotaryEmbedding Rope => Ropes[0];

    /// <summary>Query heads per KV head.</summary>
    public int GroupSize => Heads / KvHeads;

    /// <summary>Whether any layer attends to a sliding window.</summary>
    public bool HasSlidingLayers => Attention.Any(a => a.IsSliding);

    /// <summary>The index in <see cref="Ropes"/> of layer <paramref name="layer"/>'s rotation.</summary>
    public int RopeIndex(int layer) => _ropeIndex[layer];

    /// <summary>
    /// The rows layer <paramref name="layer"/> keeps: the capacity, or for a sliding-window layer its window plus one
    /// batch in flight (a ring: position p lives in row p mod rows).
    /// </summary>
    public int RowsFor(int layer)
    {
        LayerAttention a = Attention[layer];
        return a.IsSliding ? Math.Min(Capacity, a.SlidingWindow + MaxBatch) : Capacity;
    }

    /// <summary>The layout of only the layers <paramref name="layers"/> (renumbered from 0), same heads, capacity and batch.</summary>
    public KvCacheLayout Subset(IReadOnlyList<int> layers) =>
        new(Heads, KvHeads, KeyLength, ValueLength, Capacity, [.. layers.Select(l => Attention[l])], MaxBatch);

    private static LayerAttention[] Uniform(int layers, RotaryEmbedding rope, int keyLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentNullException.ThrowIfNull(rope);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyLength);
        var a = new LayerAttention(rope, 1.0f / MathF.Sqrt(keyLength), 0, 0);
        return Enumerable.Repeat(a, layers).ToArray();
    }

    /// <summary>
    /// Checks a batch every cache kind receives in <c>Store</c> and <c>Attend</c>: an existing layer, at least one token,
    /// a start within the <paramref name="committed"/> tokens (no gaps) and an end within the capacity.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">One of those does not hold (the message says which).</exception>
    public void CheckBatch(int layer, int position, int count, int committed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (position < 0 || position > committed)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"A batch must start within the {committed} committed tokens (no gaps).");
        }

        if (position + count > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Tokens {position}..{position + count - 1} do not fit the cache capacity of {Capacity}.");
        }
    }

    /// <summary>
    /// Checks an <c>Attend</c> call of every cache kind: the batch (<see cref="CheckBatch"/>) and room for its queries
    /// and outputs.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The batch is out of range.</exception>
    /// <exception cref="ArgumentException">The queries or the output are too short (the message says by how much).</exception>
    public void CheckAttend(int layer, int position, int count, int committed, int queries, int output)
    {
        CheckBatch(layer, position, count, committed);
        if (queries < count * Heads * KeyLength)
        {
            throw new ArgumentException($"The queries hold {queries} floats; {count} × {Heads} × {KeyLength} are needed.", nameof(queries));
        }

        if (output < count * Heads * ValueLength)
        {
            throw new ArgumentException($"The output holds {output} floats; {count} × {Heads} × {ValueLength} are needed.", nameof(output));
        }
    }
}
