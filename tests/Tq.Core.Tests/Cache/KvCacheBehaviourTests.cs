using Tq.Core.Cache;
using Tq.Core.Models;
using Xunit;

namespace Tq.Core.Tests.Cache;

/// <summary>The behaviour every KV-cache kind must have; a derived class per kind supplies the cache and its tolerance.</summary>
public abstract class KvCacheBehaviourTests
{
    private const int Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, Capacity = 48;

    /// <summary>Largest absolute difference allowed from exact float attention over the same inputs.</summary>
    protected abstract float Tolerance { get; }

    internal abstract IKvCache CreateCache(KvCacheLayout layout);

    internal static KvCacheLayout Layout(int capacity = Capacity) =>
        new(Layers, Heads, KvHeads, HeadDim, HeadDim, capacity, new RotaryEmbedding(RopeStyle.Normal, HeadDim, HeadDim, 10000f, 1f));

    private static float[] Random(int n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1))];
    }

    // Exact causal GQA softmax attention in double.
    private static float[] Reference(float[] keys, float[] values, float[] queries, int position, int count)
    {
        int kv = KvHeads * HeadDim, qd = Heads * HeadDim;
        float[] output = new float[count * qd];
        double scale = 1 / Math.Sqrt(HeadDim);
        for (int t = 0; t < count; t++)
        {
            for (int h = 0; h < Heads; h++)
            {
                int g = h / (Heads / KvHeads);
                int n = position + t + 1;
                double[] w = new double[n];
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int d = 0; d < HeadDim; d++)
                    {
                        s += queries[(t * qd) + (h * HeadDim) + d] * keys[(j * kv) + (g * HeadDim) + d];
                    }

                    w[j] = s * scale;
                }

                double max = w.Max(), sum = w.Sum(x => Math.Exp(x - max));
                for (int d = 0; d < HeadDim; d++)
                {
                    double o = 0;
                    for (int j = 0; j < n; j++)
                    {
                        o += Math.Exp(w[j] - max) / sum * values[(j * kv) + (g * HeadDim) + d];
                    }

                    output[(t * qd) + (h * HeadDim) + d] = (float)o;
                }
            }
        }

        return output;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 1)]
    [InlineData(5, 6)]
    [InlineData(1, 40)]
    public void Attend_AfterStore_MatchesExactAttention(int before, int count)
    {
        using IKvCache cache = CreateCache(Layout());
        int kv = KvHeads * HeadDim, qd = Heads * HeadDim, total = before + count;
        float[] keys = Random(total * kv, 1), values = Random(total * kv, 2), queries = Random(count * qd, 3);
        for (int layer = 0; layer < Layers; layer++)
        {
            cache.Store(layer, 0, before, keys, keys, values);
        }

        cache.Commit(before);
        float[] output = new float[count * qd];
        for (int layer = 0; layer < Layers; layer++)
        {
            cache.Store(layer, before, count, keys.AsSpan(before * kv), keys.AsSpan(before * kv), values.AsSpan(before * kv));
            cache.Attend(layer, before, count, queries, output, pool: null);
        }

        cache.Commit(total);
        Assert.Equal(total, cache.Length);
        float[] expected = Reference(keys, values, queries, before, count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - output[i]) <= Tolerance, $"output {i}: {output[i]} vs exact {expected[i]}");
        }
    }

    [Fact]
    public void Truncate_ThenStoreOtherTokens_EqualsFreshCache()
    {
        int kv = KvHeads * HeadDim, qd = Heads * HeadDim;
        float[] keys = Random(10 * kv, 4), values = Random(10 * kv, 5), other = Random(10 * kv, 6), query = Random(qd, 7);
        using IKvCache truncated = CreateCache(Layout());
        using IKvCache fresh = CreateCache(Layout());
        StoreAll(truncated, keys, values, 0, 10);
        truncated.Truncate(4);
        Assert.Equal(4, truncated.Length);
        StoreAll(truncated, other, other, 4, 3);
        StoreAll(fresh, keys, values, 0, 4);
        StoreAll(fresh, other, other, 4, 3);
        float[] a = new float[qd], b = new float[qd];
        truncated.Attend(1, 6, 1, query, a, null);
        fresh.Attend(1, 6, 1, query, b, null);
        Assert.Equal(b, a);
    }

    [Fact]
    public void Reset_EmptiesTheCache()
    {
        using IKvCache cache = CreateCache(Layout());
        float[] keys = Random(3 * KvHeads * HeadDim, 8);
        StoreAll(cache, keys, keys, 0, 3);
        cache.Reset();
        Assert.Equal(0, cache.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Store(0, 2, 1, keys, keys, keys));
    }

    [Fact]
    public void Store_PastCapacityOrWithGap_Throws()
    {
        using IKvCache cache = CreateCache(Layout(capacity: 8));
        float[] keys = Random(9 * KvHeads * HeadDim, 9);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Store(0, 0, 9, keys, keys, keys));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Store(0, 1, 1, keys, keys, keys));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Store(Layers, 0, 1, keys, keys, keys));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(1));
    }

    [Fact]
    public void Memory_IsAccountedPerToken()
    {
        using IKvCache cache = CreateCache(Layout(capacity: 32));
        Assert.True(cache.BytesPerToken > 0);
        Assert.True(cache.AllocatedBytes >= cache.BytesPerToken * cache.Length);
        Assert.True(cache.AllocatedBytes <= cache.BytesPerToken * 32 * 2);
    }

    private static void StoreAll(IKvCache cache, float[] keys, float[] values, int position, int count)
    {
        int kv = KvHeads * HeadDim;
        for (int layer = 0; layer < Layers; layer++)
        {
            cache.Store(layer, position, count, keys.AsSpan(0, count * kv), keys.AsSpan(0, count * kv), values.AsSpan(0, count * kv));
        }

        cache.Commit(position + count);
    }
}
