using Tq.Core.Cache;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Tokenization;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Cache;

/// <summary>
/// Sliding-window layers keep only their window (plus one batch in flight) in the F16 cache; the results are those of
/// llama.cpp's masked attention (ArchitecturePerplexityTests checks them with rings that wrap), and a session that
/// rewinds past what a ring still holds evaluates the kept tokens again instead of reading overwritten rows.
/// </summary>
public sealed class SlidingWindowCacheTests
{
    private static Model Gemma(string name) => Model.Load(TestPaths.Model(Path.Combine("arch", name)), new ModelOptions { Threads = 2 });

    private static int[] Tokens(Model model, int count)
    {
        string text = File.ReadAllText(TestPaths.Corpus("tinystories", "tq-stories-heldout.txt"))[..8_000];
        return Tokenizer.FromGguf(model.File).Encode(text, addSpecial: true)[..count];
    }

    [Fact]
    public void F16Cache_Gemma3_SlidingLayersHoldWindowPlusBatch()
    {
        // gemma3: 6 layers, 5 sliding (window 64) and 1 global; 2 KV heads of 64 keys and 64 values, FP16.
        using Model model = Gemma("arch-gemma3.gguf");
        using Session session = model.CreateSession(new SessionOptions { ContextLength = 512, BatchSize = 64 });
        long row = 2L * (64 + 64) * sizeof(ushort);
        Assert.Equal(row * ((1 * 512) + (5 * (64 + 64))), session.KvCacheBytes);
        Assert.Equal(row * 1, session.KvCacheBytesPerToken);
    }

    [Fact]
    public void Layout_Gemma2_AlternateLayersSlideWithSoftCap()
    {
        using Model model = Gemma("arch-gemma2.gguf");
        KvCacheLayout layout = model.CreateCacheLayout(256, 32);
        Assert.Equal([64, 0], layout.Attention.Select(a => a.SlidingWindow));
        Assert.All(layout.Attention, a => Assert.Equal(50f, a.SoftCap));
        Assert.All(layout.Attention, a => Assert.Equal(1f, a.Scale)); // gemma scales the queries instead
        Assert.Equal([64 + 32, 256], Enumerable.Range(0, 2).Select(layout.RowsFor));
    }

    [Fact]
    public void Layout_Gemma3_FiveSlidingToOneGlobalWithTwoRopeBases()
    {
        using Model model = Gemma("arch-gemma3.gguf");
        KvCacheLayout layout = model.CreateCacheLayout(256);
        Assert.Equal([true, true, true, true, true, false], layout.Attention.Select(a => a.IsSliding));
        Assert.Equal(2, layout.Ropes.Count);
        Assert.Equal(10_000f, layout.Attention[0].Rope.FreqBase);
        Assert.Equal(1_000_000f, layout.Attention[5].Rope.FreqBase);
    }

    [Fact]
    public void Prompt_RewindPastTheRing_EvaluatesAgainAndMatchesAFreshSession()
    {
        using Model model = Gemma("arch-gemma2.gguf");
        int[] tokens = Tokens(model, 300);
        using Session session = model.CreateSession(new SessionOptions { ContextLength = 512, BatchSize = 16 });
        session.Evaluate(tokens);

        // Keep 100 tokens, then a different continuation: the sliding ring (64 + 16 rows) no longer holds tokens 36..99.
        int[] prompt = [.. tokens[..100], .. tokens[200..240]];
        Assert.False(session.Cache.CanTruncate(100));
        Assert.Equal(0, session.SetHistory(prompt));
        float[] rewound = session.Logits.ToArray();

        using Session fresh = model.CreateSession(new SessionOptions { ContextLength = 512, BatchSize = 16 });
        fresh.Evaluate(prompt);
        float[] expected = fresh.Logits.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(rewound[i] - expected[i]) <= 1e-3f * Math.Max(1f, Math.Abs(expected[i])), $"logit {i}: {rewound[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Truncate_PastTheRing_EvaluatesTheKeptTokensAgain()
    {
        using Model model = Gemma("arch-gemma2.gguf");
        int[] tokens = Tokens(model, 300);
        using Session session = model.CreateSession(new SessionOptions { ContextLength = 512, BatchSize = 16 });
        session.Evaluate(tokens);
        session.Truncate(100);
        session.Append(tokens[250]);
        float[] truncated = session.Logits.ToArray();

        using Session fresh = model.CreateSession(new SessionOptions { ContextLength = 512, BatchSize = 16 });
        fresh.Evaluate([.. tokens[..100], tokens[250]]);
        float[] expected = fresh.Logits.ToArray();
        Assert.Equal(101, session.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(truncated[i] - expected[i]) <= 1e-3f * Math.Max(1f, Math.Abs(expected[i])), $"logit {i}: {truncated[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Truncate_WithinTheRing_KeepsTheCache()
    {
        using Model model = Gemma("arch-gemma2.gguf");
        int[] tokens = Tokens(model, 120);
        using Session session = model.CreateSession(new SessionOptions { ContextLength = 512, BatchSize = 16 });
        session.Evaluate(tokens);
        Assert.True(session.Cache.CanTruncate(110));
        session.Truncate(110);
        Assert.Equal(110, session.Cache.Length);
    }

    [Theory]
    [InlineData("arch-gemma2.gguf")]
    [InlineData("arch-gemma3.gguf")]
    public void Q8Cache_SlidingAndSoftCappedModels_StaysCloseToF16(string name)
    {
        // Sliding layers in F16 rings, full layers in Q8_0 (soft-capped on gemma2): close to the all-F16 figure.
        using Model model = Gemma(name);
        int[] tokens = Tokens(model, 257);
        double f16 = Perplexity(model, tokens, new KvCacheOptions());
        double q8 = Perplexity(model, tokens, new KvCacheOptions { Kind = KvCacheKind.Q8_0 });
        Assert.True(Math.Abs(q8 - f16) / f16 < 0.02, $"F16 {f16}, Q8_0 {q8}");
    }

    [Fact]
    public void TurboQuantCache_Gemma3_SlidingLayersInF16RingsFullLayerCompressed()
    {
        using Model model = Gemma("arch-gemma3.gguf");
        KvCacheOptions options = KvCacheOptions.TurboQuant();
        using Session session = model.CreateSession(new SessionOptions { ContextLength = 512, BatchSize = 64, KvCache = options });
        Assert.IsType<SplitKvCache>(session.Cache);
        KvCacheFootprint footprint = KvCacheFactory.Footprint(session.Cache.Layout, options);
        Assert.Equal(footprint.BytesFor(512), session.KvCacheBytes);

        // Five rings of 64 + 64 FP16 rows are fixed; only the one global layer grows, at TurboQuant's rate.
        long ring = 2L * (64 + 64) * sizeof(ushort) * (64 + 64);
        Assert.True(footprint.FixedBytes >= 5 * ring, $"{footprint.FixedBytes}");
        Assert.True(footprint.BytesPerToken < 2L * (64 + 64) * sizeof(ushort), $"{footprint.BytesPerToken}");
        session.Evaluate(Tokens(model, 200));
        Assert.All(session.Logits.ToArray(), l => Assert.True(float.IsFinite(l)));
    }

    [Fact]
    public void CompressedCache_EveryLayerSliding_MasksTheWindowAndCapsLikeF16()
    {
        // A layout whose every layer slides stays in one compressed cache, which masks rows before the window itself.
        var rope = new RotaryEmbedding(RopeStyle.NeoX, 64, 64, 10000, 1);
        var attention = new LayerAttention(rope, 0.125f, 30f, 16);
        var layout = new KvCacheLayout(4, 2, 64, 64, 128, [attention, attention], 128);
        var wide = new KvCacheLayout(4, 2, 64, 64, 128, [new LayerAttention(rope, 0.125f, 30f, 0), new LayerAttention(rope, 0.125f, 30f, 0)], 128);
        var random = new Random(5);
        float[] keys = [.. Enumerable.Range(0, 100 * 2 * 64).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        float[] values = [.. Enumerable.Range(0, 100 * 2 * 64).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        float[] queries = [.. Enumerable.Range(0, 100 * 4 * 64).Select(_ => (float)((random.NextDouble() * 4) - 2))];
        float[] Attend(KvCacheLayout l, KvCacheOptions o)
        {
            using IKvCache cache = KvCacheFactory.Create(l, o);
            float[] output = new float[100 * 4 * 64];
            cache.Store(1, 0, 100, keys, keys, values);
            cache.Attend(1, 0, 100, queries, output, null);
            return output;
        }

        var q8 = new KvCacheOptions { Kind = KvCacheKind.Q8_0 };
        float[] f16 = Attend(layout, new KvCacheOptions()), compressed = Attend(layout, q8), unmasked = Attend(wide, q8);
        double error = f16.Zip(compressed, (a, b) => Math.Abs(a - b)).Max();
        double masked = f16.Zip(unmasked, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(error < 0.02, $"Q8_0 vs F16 {error}");
        Assert.True(masked > 10 * error, $"the window changes the output: {masked} vs {error}");
    }

    private static double Perplexity(Model model, int[] tokens, KvCacheOptions cache)
    {
        using Session session = model.CreateSession(new SessionOptions { ContextLength = 256, BatchSize = 64, KvCache = cache });
        int vocab = model.VocabularySize;
        float[] logits = new float[256 * vocab];
        session.Evaluate(tokens.AsSpan(0, 256), logits, CancellationToken.None);
        double nll = 0;
        for (int j = 128; j < 255; j++)
        {
            ReadOnlySpan<float> row = logits.AsSpan(j * vocab, vocab);
            float max = float.NegativeInfinity;
            foreach (float l in row)
            {
                max = MathF.Max(max, l);
            }

            double sum = 0;
            foreach (float l in row)
            {
                sum += Math.Exp(l - max);
            }

            nll -= row[tokens[j + 1]] - max - Math.Log(sum);
        }

        return Math.Exp(nll / 127);
    }
}
