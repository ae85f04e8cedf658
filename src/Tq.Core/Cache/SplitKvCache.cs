using Tq.Core.Threading;

namespace Tq.Core.Cache;

/// <summary>
/// A model with sliding-window layers under a compressed cache: the sliding layers keep their window in an
/// <see cref="F16KvCache"/> ring (bounded memory, nothing to gain from compressing a few hundred rows), the
/// full-attention layers go to the configured cache (where TurboQuant pays, since they grow with the context).
/// Layer indices are mapped to each part's own numbering.
/// </summary>
internal sealed class SplitKvCache : IKvCache
{
    private readonly F16KvCache _sliding;
    private readonly IKvCache _full;
    private readonly bool[] _isSliding;
    private readonly int[] _index;

    /// <summary>Splits <paramref name="layout"/>: sliding layers to an F16 ring, the rest to <paramref name="createFull"/>'s cache.</summary>
    /// <exception cref="ArgumentException">The layout has no sliding layer, or no full one.</exception>
    public SplitKvCache(KvCacheLayout layout, Func<KvCacheLayout, IKvCache> createFull)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(createFull);
        (int[] sliding, int[] full) = Partition(layout);
        if (sliding.Length == 0 || full.Length == 0)
        {
            throw new ArgumentException("A split cache needs both sliding-window and full-attention layers.", nameof(layout));
        }

        Layout = layout;
        _isSliding = [.. layout.Attention.Select(a => a.IsSliding)];
        _index = new int[layout.Layers];
        for (int i = 0; i < sliding.Length; i++)
        {
            _index[sliding[i]] = i;
        }

        for (int i = 0; i < full.Length; i++)
        {
            _index[full[i]] = i;
        }

        _sliding = new F16KvCache(layout.Subset(sliding));
        try
        {
            _full = createFull(layout.Subset(full));
        }
        catch
        {
            _sliding.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public KvCacheLayout Layout { get; }

    /// <inheritdoc />
    public int Length => _full.Length;

    /// <summary>Bytes one more token costs: the full layers' (the sliding rings are fixed).</summary>
    public long BytesPerToken => _full.BytesPerToken + _sliding.BytesPerToken;

    /// <inheritdoc />
    public long AllocatedBytes => _full.AllocatedBytes + _sliding.AllocatedBytes;

    /// <summary>The sliding layers' and the full layers' indices in <paramref name="layout"/>.</summary>
    public static (int[] Sliding, int[] Full) Partition(KvCacheLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        int[] all = [.. Enumerable.Range(0, layout.Layers)];
        return ([.. all.Where(l => layout.Attention[l].IsSliding)], [.. all.Where(l => !layout.Attention[l].IsSliding)]);
    }

    /// <inheritdoc />
    public void Store(int layer, int position, int count, ReadOnlySpan<float> keysBeforeRope, ReadOnlySpan<float> keys, ReadOnlySpan<float> values) =>
        Part(layer).Store(_index[layer], position, count, keysBeforeRope, keys, values);

    /// <inheritdoc />
    public void Attend(int layer, int position, int count, ReadOnlySpan<float> queries, Span<float> output, WorkerPool? pool) =>
        Part(layer).Attend(_index[layer], position, count, queries, output, pool);

    /// <inheritdoc />
    public void Commit(int length)
    {
        _sliding.Commit(length);
        _full.Commit(length);
    }

    /// <inheritdoc />
    public bool CanTruncate(int length) => _sliding.CanTruncate(length) && _full.CanTruncate(length);

    /// <inheritdoc />
    public void Truncate(int length)
    {
        _sliding.Truncate(length);
        _full.Truncate(length);
    }

    /// <inheritdoc />
    public void Reset()
    {
        _sliding.Reset();
        _full.Reset();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _sliding.Dispose();
        _full.Dispose();
    }

    private IKvCache Part(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Layout.Layers);
        return _isSliding[layer] ? _sliding : _full;
    }
}
