using Tq.Core.Cache;
using Tq.Core.Models;
using Xunit;

namespace Tq.Core.Tests.Cache;

/// <summary>
/// The one behavioural suite of the <see cref="IKvCache"/> contract, run against every cache kind by a derived class
/// (<c>KvCacheKindTests.cs</c>). Two data regimes: Gaussian keys with outlier channels at head dim 64 (checked by cosine
/// to exact attention, <see cref="MinCosine"/>) and uniform values in [-1, 1] at head dim 16 (checked element by element,
/// <see cref="Tolerance"/>).
/// </summary>
public abstract class KvCacheBehaviorTests
{
    internal const int Layers = 2;
    internal const int Heads = 4;
    internal const int KvHeads = 2;
    internal const int HeadDim = 64;
    internal const int Capacity = 48;

    // The head size of the element-wise regime.
    private const int SmallHeadDim = 16;

    /// <summary>Smallest acceptable cosine similarity of an attention output to exact float attention (head dim 64).</summary>
    protected abstract double MinCosine { get; }

    /// <summary>Largest absolute difference allowed from exact attention over values in [-1, 1] (head dim 16).</summary>
    protected abstract float Tolerance { get; }

    /// <summary>The options the cache is made from (and its footprint computed with).</summary>
    internal abstract KvCacheOptions Options { get; }

    internal static KvCacheLayout Layout(int capacity = Capacity, int headDim = HeadDim) =>
        new(Layers, Heads, KvHeads, headDim, headDim, capacity, new RotaryEmbedding(RopeStyle.Normal, headDim, headDim, 10000, 1));

    internal virtual IKvCache Create(KvCacheLayout layout) => KvCacheFactory.Create(layout, Options);

    [Fact]
    public void Attend_RandomTokens_CloseToExactAttention()
    {
        using IKvCache cache = Create(Layout());
        var data = new TokenData(Capacity, seed: 1);
        Fill(cache, data, 0, Capacity, batch: Capacity);
        for (int layer = 0; layer < Layers; layer++)
        {
            float[] output = Attend(cache, data, layer, Capacity - 1, 1);
            float[] exact = data.ExactAttention(layer, Capacity - 1);
            double cosine = Cosine(output, exact);
            Assert.True(cosine >= MinCosine, $"Layer {layer}: cosine {cosine:F5} < {MinCosine}.");
        }
    }

    [Fact]
    public void Attend_OneToken_ReturnsItsValue()
    {
        using IKvCache cache = Create(Layout());
        var data = new TokenData(1, seed: 2);
        Fill(cache, data, 0, 1, batch: 1);
        float[] output = Attend(cache, data, 0, 0, 1);
        float[] exact = data.ExactAttention(0, 0);
        Assert.True(Cosine(output, exact) >= Math.Max(MinCosine, 0.99), "A single token's attention output must be its value.");
    }

    [Fact]
    public void Evaluate_BatchAndTokenByToken_GiveSameOutputs()
    {
        var data = new TokenData(Capacity, seed: 3);
        using IKvCache batched = Create(Layout());
        using IKvCache stepped = Create(Layout());
        Fill(batched, data, 0, Capacity - 8, batch: Capacity - 8);
        Fill(stepped, data, 0, Capacity - 8, batch: 1);
        for (int p = Capacity - 8; p < Capacity; p++)
        {
            Fill(batched, data, p, 1, batch: 1);
            Fill(stepped, data, p, 1, batch: 1);
            float[] a = Attend(batched, data, 1, p, 1), b = Attend(stepped, data, 1, p, 1);
            Assert.Equal(a, b, (x, y) => Math.Abs(x - y) <= 1e-4f);
        }
    }

    [Fact]
    public void Truncate_ThenRestore_MatchesFreshCache()
    {
        var data = new TokenData(Capacity, seed: 4);
        var other = new TokenData(Capacity, seed: 5);
        using IKvCache fresh = Create(Layout());
        using IKvCache reused = Create(Layout());
        Fill(fresh, data, 0, 40, batch: 8);
        Fill(reused, data, 0, 20, batch: 8);
        Fill(reused, other, 20, 20, batch: 8);
        reused.Truncate(20);
        Assert.Equal(20, reused.Length);
        Fill(reused, data, 20, 20, batch: 8);
        float[] a = Attend(fresh, data, 0, 39, 1), b = Attend(reused, data, 0, 39, 1);
        Assert.True(Cosine(a, b) >= 0.9999, "A cache reused after truncation must attend like a fresh one.");
    }

    [Fact]
    public void Reset_ThenReuse_MatchesFreshCache()
    {
        var data = new TokenData(Capacity, seed: 6);
        var other = new TokenData(Capacity, seed: 7);
        using IKvCache fresh = Create(Layout());
        using IKvCache reused = Create(Layout());
        Fill(reused, other, 0, Capacity, batch: 16);
        reused.Reset();
        Assert.Equal(0, reused.Length);
        Fill(fresh, data, 0, 30, batch: 16);
        Fill(reused, data, 0, 30, batch: 16);
        Assert.Equal(Attend(fresh, data, 1, 29, 1), Attend(reused, data, 1, 29, 1));
        reused.Reset();
        Assert.Equal(0, reused.Length);
        float[] k = data.Keys(0, 0, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => reused.Store(0, 2, 1, k, k, k));
    }

    [Fact]
    public void Store_BadArguments_Throw()
    {
        using IKvCache cache = Create(Layout());
        float[] k = new float[KvHeads * HeadDim], v = new float[KvHeads * HeadDim];
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Store(Layers, 0, 1, k, k, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Store(0, 1, 1, k, k, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Store(0, Capacity, 1, k, k, v));
        Assert.Throws<ArgumentException>(() => cache.Store(0, 0, 2, k, k, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(1));

        using IKvCache small = Create(Layout(capacity: 8));
        float[] nine = new float[9 * KvHeads * HeadDim];
        Assert.Throws<ArgumentOutOfRangeException>(() => small.Store(0, 0, 9, nine, nine, nine));
        Assert.Throws<ArgumentOutOfRangeException>(() => small.Store(0, 1, 1, nine, nine, nine));
        Assert.Throws<ArgumentOutOfRangeException>(() => small.Store(Layers, 0, 1, nine, nine, nine));
        Assert.Throws<ArgumentOutOfRangeException>(() => small.Truncate(1));
    }

    [Fact]
    public void AllocatedBytes_DoNotGrowWithTokens()
    {
        using IKvCache cache = Create(Layout());
        long before = cache.AllocatedBytes;
        Fill(cache, new TokenData(Capacity, seed: 8), 0, Capacity, batch: 7);
        Assert.Equal(before, cache.AllocatedBytes);
        Assert.True(cache.BytesPerToken > 0);
        Assert.True(cache.AllocatedBytes >= cache.BytesPerToken * cache.Length);
    }

    [Theory]
    [InlineData(32, SmallHeadDim)]
    [InlineData(Capacity, HeadDim)]
    public void AllocatedBytes_EqualTheFootprint(int capacity, int headDim)
    {
        // The size model (validation, the session pool and `tq info` use it) must be the cache's real size.
        KvCacheLayout layout = Layout(capacity, headDim);
        using IKvCache cache = Create(layout);
        KvCacheFootprint footprint = KvCacheFactory.Footprint(layout, Options);
        Assert.True(cache.BytesPerToken > 0);
        Assert.Equal(footprint.BytesPerToken, cache.BytesPerToken);
        Assert.Equal(footprint.BytesFor(capacity), cache.AllocatedBytes);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 1)]
    [InlineData(5, 6)]
    [InlineData(1, 40)]
    public void Attend_AfterStore_MatchesExactAttention(int before, int count)
    {
        using IKvCache cache = Create(Layout(headDim: SmallHeadDim));
        int kv = KvHeads * SmallHeadDim, qd = Heads * SmallHeadDim, total = before + count;
        float[] keys = Uniform(total * kv, 1), values = Uniform(total * kv, 2), queries = Uniform(count * qd, 3);
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
        float[] expected = ExactUniformAttention(keys, values, queries, before, count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - output[i]) <= Tolerance, $"output {i}: {output[i]} vs exact {expected[i]}");
        }
    }

    [Fact]
    public void Truncate_ThenStoreOtherTokens_EqualsFreshCache()
    {
        int kv = KvHeads * SmallHeadDim, qd = Heads * SmallHeadDim;
        float[] keys = Uniform(10 * kv, 4), values = Uniform(10 * kv, 5), other = Uniform(10 * kv, 6), query = Uniform(qd, 7);
        using IKvCache truncated = Create(Layout(headDim: SmallHeadDim));
        using IKvCache fresh = Create(Layout(headDim: SmallHeadDim));
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

    private static float[] Uniform(int n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1))];
    }

    // Exact causal GQA softmax attention in double, head dim 16.
    private static float[] ExactUniformAttention(float[] keys, float[] values, float[] queries, int position, int count)
    {
        const int D = SmallHeadDim;
        int kv = KvHeads * D, qd = Heads * D;
        float[] output = new float[count * qd];
        double scale = 1 / Math.Sqrt(D);
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
                    for (int d = 0; d < D; d++)
                    {
                        s += queries[(t * qd) + (h * D) + d] * keys[(j * kv) + (g * D) + d];
                    }

                    w[j] = s * scale;
                }

                double max = w.Max(), sum = w.Sum(x => Math.Exp(x - max));
                for (int d = 0; d < D; d++)
                {
                    double o = 0;
                    for (int j = 0; j < n; j++)
                    {
                        o += Math.Exp(w[j] - max) / sum * values[(j * kv) + (g * D) + d];
                    }

                    output[(t * qd) + (h * D) + d] = (float)o;
                }
            }
        }

        return output;
    }

    private static void StoreAll(IKvCache cache, float[] keys, float[] values, int position, int count)
    {
        int kv = KvHeads * SmallHeadDim;
        for (int layer = 0; layer < Layers; layer++)
        {
            cache.Store(layer, position, count, keys.AsSpan(0, count * kv), keys.AsSpan(0, count * kv), values.AsSpan(0, count * kv));
        }

        cache.Commit(position + count);
    }

    internal static void Fill(IKvCache cache, TokenData data, int start, int count, int batch)
    {
        for (int p = start; p < start + count; p += batch)
        {
            int n = Math.Min(batch, start + count - p);
            for (int layer = 0; layer < Layers; layer++)
            {
                cache.Store(layer, p, n, data.KeysBeforeRope(layer, p, n), data.Keys(layer, p, n), data.Values(layer, p, n));
            }

            cache.Commit(p + n);
        }
    }

    internal static float[] Attend(IKvCache cache, TokenData data, int layer, int position, int count)
    {
        float[] output = new float[count * Heads * HeadDim];
        cache.Attend(layer, position, count, data.Queries(layer, position, count), output, null);
        return output;
    }

    internal static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>Deterministic keys (with a few large outlier channels, as real keys have), values and queries.</summary>
    internal sealed class TokenData
    {
        private readonly float[][] _keysPre;
        private readonly float[][] _keys;
        private readonly float[][] _values;
        private readonly float[][] _queries;
        private readonly RotaryEmbedding _rope = Layout().Rope;

        public TokenData(int tokens, int seed)
        {
            var random = new Random(seed);
            _keysPre = new float[Layers][];
            _keys = new float[Layers][];
            _values = new float[Layers][];
            _queries = new float[Layers][];
            for (int l = 0; l < Layers; l++)
            {
                _keysPre[l] = Gaussian(random, tokens * KvHeads * HeadDim, outliers: true);
                _values[l] = Gaussian(random, tokens * KvHeads * HeadDim, outliers: false);
                _queries[l] = Gaussian(random, tokens * Heads * HeadDim, outliers: true);
                _keys[l] = (float[])_keysPre[l].Clone();
                for (int t = 0; t < tokens; t++)
                {
                    _rope.Apply(_keys[l].AsSpan(t * KvHeads * HeadDim, KvHeads * HeadDim), KvHeads, t);
                    _rope.Apply(_queries[l].AsSpan(t * Heads * HeadDim, Heads * HeadDim), Heads, t);
                }
            }
        }

        public float[] KeysBeforeRope(int layer, int p, int n) => _keysPre[layer].AsSpan(p * KvHeads * HeadDim, n * KvHeads * HeadDim).ToArray();

        public float[] Keys(int layer, int p, int n) => _keys[layer].AsSpan(p * KvHeads * HeadDim, n * KvHeads * HeadDim).ToArray();

        public float[] Values(int layer, int p, int n) => _values[layer].AsSpan(p * KvHeads * HeadDim, n * KvHeads * HeadDim).ToArray();

        public float[] Queries(int layer, int p, int n) => _queries[layer].AsSpan(p * Heads * HeadDim, n * Heads * HeadDim).ToArray();

        /// <summary>Exact single-precision causal attention of the queries at <paramref name="p"/>, all heads.</summary>
        public float[] ExactAttention(int layer, int p)
        {
            float[] output = new float[Heads * HeadDim];
            float scale = 1f / MathF.Sqrt(HeadDim);
            for (int h = 0; h < Heads; h++)
            {
                int kvh = h / (Heads / KvHeads);
                double[] w = new double[p + 1];
                for (int j = 0; j <= p; j++)
                {
                    double s = 0;
                    for (int i = 0; i < HeadDim; i++)
                    {
                        s += _queries[layer][(p * Heads * HeadDim) + (h * HeadDim) + i] * (double)_keys[layer][(j * KvHeads * HeadDim) + (kvh * HeadDim) + i];
                    }

                    w[j] = s * scale;
                }

                double max = w.Max(), sum = 0;
                for (int j = 0; j <= p; j++)
                {
                    w[j] = Math.Exp(w[j] - max);
                    sum += w[j];
                }

                for (int j = 0; j <= p; j++)
                {
                    for (int i = 0; i < HeadDim; i++)
                    {
                        output[(h * HeadDim) + i] += (float)(w[j] / sum * _values[layer][(j * KvHeads * HeadDim) + (kvh * HeadDim) + i]);
                    }
                }
            }

            return output;
        }

        private static float[] Gaussian(Random random, int n, bool outliers)
        {
            float[] x = new float[n];
            for (int i = 0; i < n; i++)
            {
                double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                x[i] = (float)(g * (outliers && i % HeadDim is 3 or 17 ? 6 : 1));
            }

            return x;
        }
    }
}
