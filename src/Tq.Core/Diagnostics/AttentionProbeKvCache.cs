using System.Numerics.Tensors;
using Tq.Core.Cache;
using Tq.Core.Threading;

namespace Tq.Core.Diagnostics;

/// <summary>
/// Attention-fidelity probe: runs a candidate cache beside an F16 cache on the same keys, values and queries, passes
/// the F16 output on (so every layer sees the reference activations) and records, per layer, the mean cosine
/// similarity between the candidate's attention output and the F16 one (per query head and token).
/// </summary>
internal sealed class AttentionProbeKvCache : IKvCache
{
    private readonly F16KvCache _reference;
    private readonly IKvCache _candidate;
    private readonly double[] _cosineSum;
    private readonly long[] _cosineCount;
    private float[] _buffer = [];

    public AttentionProbeKvCache(KvCacheLayout layout, IKvCache candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        _reference = new F16KvCache(layout);
        _candidate = candidate;
        _cosineSum = new double[layout.Layers];
        _cosineCount = new long[layout.Layers];
    }

    public KvCacheLayout Layout => _candidate.Layout;

    public int Length => _candidate.Length;

    public long BytesPerToken => _candidate.BytesPerToken;

    public long AllocatedBytes => _candidate.AllocatedBytes;

    public void Store(int layer, int position, int count, ReadOnlySpan<float> keysBeforeRope, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        _reference.Store(layer, position, count, keysBeforeRope, keys, values);
        _candidate.Store(layer, position, count, keysBeforeRope, keys, values);
    }

    public void Attend(int layer, int position, int count, ReadOnlySpan<float> queries, Span<float> output, WorkerPool? pool)
    {
        int dv = Layout.ValueLength, rows = count * Layout.Heads;
        if (_buffer.Length < rows * dv)
        {
            _buffer = new float[rows * dv];
        }

        _reference.Attend(layer, position, count, queries, output, pool);
        _candidate.Attend(layer, position, count, queries, _buffer, pool);
        for (int r = 0; r < rows; r++)
        {
            _cosineSum[layer] += TensorPrimitives.CosineSimilarity(output.Slice(r * dv, dv), _buffer.AsSpan(r * dv, dv));
            _cosineCount[layer]++;
        }
    }

    public void Commit(int length)
    {
        _reference.Commit(length);
        _candidate.Commit(length);
    }

    public bool CanTruncate(int length) => _reference.CanTruncate(length) && _candidate.CanTruncate(length);

    public void Truncate(int length)
    {
        _reference.Truncate(length);
        _candidate.Truncate(length);
    }

    public void Reset()
    {
        _reference.Reset();
        _candidate.Reset();
    }

    /// <summary>Mean cosine similarity per layer so far.</summary>
    public double[] MeanCosine() => [.. _cosineSum.Select((s, l) => _cosineCount[l] == 0 ? double.NaN : s / _cosineCount[l])];

    public void Dispose()
    {
        _reference.Dispose();
        _candidate.Dispose();
    }
}
