using Tq.Core.Threading;

namespace Tq.Core.Cache;

/// <summary>
/// The key/value memory of one sequence, and the attention over it. The forward pass calls, for every layer of a batch
/// of <c>count</c> new tokens at positions <c>position..position+count-1</c>: <see cref="Store"/> (the new keys and
/// values), then <see cref="Attend"/> (causal softmax attention of the batch's queries over everything up to each
/// query's own position); after the last layer it calls <see cref="Commit"/>. The forward pass never knows the kind of
/// cache, so a compressed cache scores its codes directly inside <see cref="Attend"/>.
/// </summary>
/// <remarks>
/// Layouts of the spans (floats, row-major): keys and queries <c>[count][heads][KeyLength]</c>, values and the output
/// <c>[count][heads][ValueLength]</c>, with the KV head count for keys/values and the query head count for queries and
/// output. Query head h reads KV head h / <see cref="KvCacheLayout.GroupSize"/>. Not thread-safe: one sequence, one caller.
/// </remarks>
internal interface IKvCache : IDisposable
{
    /// <summary>The shape of the cache.</summary>
    KvCacheLayout Layout { get; }

    /// <summary>Committed tokens (the next position to write).</summary>
    int Length { get; }

    /// <summary>Bytes one token occupies across all layers (keys and values).</summary>
    long BytesPerToken { get; }

    /// <summary>Bytes the cache holds now (its allocation, not only the committed part).</summary>
    long AllocatedBytes { get; }

    /// <summary>
    /// Writes the keys and values of <paramref name="count"/> tokens at <paramref name="position"/> of layer
    /// <paramref name="layer"/>. Both the keys before RoPE and after it are given: a cache stores whichever it wants.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The positions are past the capacity, or leave a gap after <see cref="Length"/>.</exception>
    void Store(int layer, int position, int count, ReadOnlySpan<float> keysBeforeRope, ReadOnlySpan<float> keys, ReadOnlySpan<float> values);

    /// <summary>
    /// Causal attention of <paramref name="count"/> queries (already rotated) at positions <paramref name="position"/>..:
    /// query i attends to cached tokens 0..position+i of layer <paramref name="layer"/>, written to <paramref name="output"/>.
    /// </summary>
    void Attend(int layer, int position, int count, ReadOnlySpan<float> queries, Span<float> output, WorkerPool? pool);

    /// <summary>Marks tokens up to <paramref name="length"/> as stored in every layer (called after the last layer).</summary>
    void Commit(int length);

    /// <summary>
    /// Whether <see cref="Truncate"/> to <paramref name="length"/> keeps everything the next tokens attend to (false when
    /// a sliding-window layer's ring has already overwritten rows of the window before <paramref name="length"/>).
    /// </summary>
    bool CanTruncate(int length);

    /// <summary>Forgets every token from <paramref name="length"/> on.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or past <see cref="Length"/>.</exception>
    void Truncate(int length);

    /// <summary>Forgets every token.</summary>
    void Reset();
}
