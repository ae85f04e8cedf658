using Tq.Core.Cache;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Sampling;
using Tq.Core.Tests.Engine;
using Tq.Core.Tokenization;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Cache;

/// <summary>Short slices of the real-model measurements of docs/kv-cache.md (the full ones are <c>tq compare</c>).</summary>
public sealed class RealModelCacheTests
{
    private const int Context = 256;
    private const int Chunks = 2;

    public static TheoryData<string> Models() => ["tq-stories-5m-f16", "tq-chat-5m-q8_0"];

    [Theory]
    [MemberData(nameof(Models))]
    public void Perplexity_ShortSlice_K4V2WithinTwoPercentAndK4V4KldSmall(string model)
    {
        using Model m = Model.Load(TestPaths.Model(model + ".gguf"), new ModelOptions { Threads = 2 });
        string text = File.ReadAllText(TestPaths.Corpus("tinystories/tq-stories-heldout.txt"))[..40_000];
        int[] tokens = Tokenizer.FromGguf(m.File).Encode(text, addSpecial: true);
        float[][] f16 = LogProbs(m, tokens, new KvCacheOptions());
        float[][] k4v2 = LogProbs(m, tokens, KvCacheOptions.TurboQuant(4, 2));
        float[][] k4v4 = LogProbs(m, tokens, KvCacheOptions.TurboQuant(4, 4));
        double pplF16 = Perplexity(f16, tokens), pplK4V2 = Perplexity(k4v2, tokens);
        Assert.True(pplK4V2 <= pplF16 * 1.02, $"{model}: K4/V2 perplexity {pplK4V2:F4} vs F16 {pplF16:F4}.");
        double kld = MeanKld(f16, k4v4);
        Assert.True(kld <= 0.01, $"{model}: K4/V4 mean KLD {kld:F5}.");
    }

    [Theory]
    [InlineData("tq-stories-5m-f32")]
    [InlineData("tq-stories-5m-f16")]
    [InlineData("tq-stories-5m-q8_0")]
    [InlineData("tq-stories-5m-q4_k_m")]
    public void Generate_GreedyK4V4_MatchesF16ForSixteenTokens(string model)
    {
        using Model m = Model.Load(TestPaths.Model(model + ".gguf"), new ModelOptions { Threads = 2 });
        foreach (ReferenceData.GreedyCase reference in ReferenceData.Greedy(model))
        {
            int[] f16 = Greedy(m, reference.PromptTokens, new KvCacheOptions());
            int[] tq = Greedy(m, reference.PromptTokens, KvCacheOptions.TurboQuant(4, 4));
            Assert.True(f16.SequenceEqual(tq), $"{model} '{reference.Prompt}': F16 [{string.Join(",", f16)}] vs K4/V4 [{string.Join(",", tq)}].");
        }
    }

    [Fact]
    public void Append_TurboQuantSteadyState_AllocatesNothing()
    {
        using Model m = Model.Load(TestPaths.Model("tq-stories-5m-f16.gguf"), new ModelOptions { Threads = 2 });
        using Session session = m.CreateSession(new SessionOptions { ContextLength = 128, KvCache = KvCacheOptions.TurboQuant() });
        var sampler = new Sampler(new SamplerOptions { Seed = 1 });
        session.Evaluate([1, 100, 200, 300, 400, 50, 60, 70, 80, 90, 10, 20, 30, 40, 41, 42, 43, 44, 45, 46, 47]);
        for (int i = 0; i < 4; i++)
        {
            session.Append(sampler.Sample(session.Logits, session.Tokens));
        }

        Assert.Equal(0, SteadyState.AllocatedBytes(() => session.Append(sampler.Sample(session.Logits, session.Tokens))));
    }

    [Fact]
    public void Prompt_PrefixReuseAfterGeneration_MatchesFreshSession()
    {
        using Model m = Model.Load(TestPaths.Model("tq-stories-5m-f16.gguf"), new ModelOptions { Threads = 2 });
        string text = File.ReadAllText(TestPaths.Corpus("tinystories/tq-stories-heldout.txt"))[..4_000];
        int[] tokens = Tokenizer.FromGguf(m.File).Encode(text, addSpecial: true);
        int[] first = tokens[..120], second = tokens[..160];
        using Session reused = m.CreateSession(new SessionOptions { ContextLength = 256, KvCache = KvCacheOptions.TurboQuant() });
        reused.SetHistory(first);
        _ = reused.Generate(new Sampler(SamplerOptions.Greedy), 8).ToArray();
        int kept = reused.SetHistory(second);
        using Session fresh = m.CreateSession(new SessionOptions { ContextLength = 256, KvCache = KvCacheOptions.TurboQuant() });
        fresh.SetHistory(second);
        Assert.InRange(kept, 120, 159);

        // The codes of the reused prefix are the fresh ones; only window rows the ring no longer held after the
        // truncation are read from their codes instead of FP16, so the logits agree closely (measured: within 0.0035), not bit for bit.
        float[] a = reused.Logits.ToArray(), b = fresh.Logits.ToArray();
        Assert.Equal(b.AsSpan().IndexOf(b.Max()), a.AsSpan().IndexOf(a.Max()));
        double maxDiff = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(maxDiff < 0.05, $"Logits differ by up to {maxDiff:F4}.");
    }

    private static int[] Greedy(Model m, int[] prompt, KvCacheOptions cache)
    {
        using Session session = m.CreateSession(new SessionOptions { ContextLength = Context, KvCache = cache });
        session.SetHistory(prompt);
        return [.. session.Generate(new Sampler(SamplerOptions.Greedy), 16)];
    }

    // Log-probabilities of the second half of each chunk (llama-perplexity's scoring), BOS first.
    private static float[][] LogProbs(Model m, int[] tokens, KvCacheOptions cache)
    {
        int vocab = m.VocabularySize;
        using Session session = m.CreateSession(new SessionOptions { ContextLength = Context, KvCache = cache });
        float[] logits = new float[Context * vocab];
        var rows = new List<float[]>();
        for (int c = 0; c < Chunks; c++)
        {
            session.Reset();
            int[] chunk = tokens.AsSpan(c * Context, Context).ToArray();
            chunk[0] = m.BosTokenId;
            session.Evaluate(chunk, logits, CancellationToken.None);
            for (int i = Context / 2; i < Context - 1; i++)
            {
                float[] row = logits.AsSpan(i * vocab, vocab).ToArray();
                float max = row.Max();
                double sum = row.Sum(x => Math.Exp(x - max));
                float log = max + (float)Math.Log(sum);
                rows.Add([.. row.Select(x => x - log)]);
            }
        }

        return [.. rows];
    }

    private static double Perplexity(float[][] logProbs, int[] tokens)
    {
        double nll = 0;
        int k = 0;
        for (int c = 0; c < Chunks; c++)
        {
            for (int i = Context / 2; i < Context - 1; i++)
            {
                nll -= logProbs[k++][tokens[(c * Context) + i + 1]];
            }
        }

        return Math.Exp(nll / k);
    }

    private static double MeanKld(float[][] p, float[][] q)
    {
        double sum = 0;
        for (int r = 0; r < p.Length; r++)
        {
            for (int v = 0; v < p[r].Length; v++)
            {
                sum += Math.Exp(p[r][v]) * (p[r][v] - q[r][v]);
            }
        }

        return sum / p.Length;
    }
}
