using Tq.Core.Sampling;
using Xunit;

namespace Tq.Core.Tests.Sampling;

public sealed class SamplerTests
{
    private static float[] RandomLogits(int n, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 4))];
    }

    private static float[] LogitsOf(params double[] probabilities) => [.. probabilities.Select(p => (float)Math.Log(p))];

    private static HashSet<int> Draws(SamplerOptions options, float[] logits, int draws = 400)
    {
        var seen = new HashSet<int>();
        var sampler = new Sampler(options);
        for (int i = 0; i < draws; i++)
        {
            seen.Add(sampler.Sample(logits, []));
        }

        return seen;
    }

    [Fact]
    public void Sample_SameSeed_SameTokens()
    {
        float[] logits = RandomLogits(512, 1);
        int[] Run(ulong seed)
        {
            var s = new Sampler(new SamplerOptions { Seed = seed, TopK = 0, TopP = 1, MinP = 0, Temperature = 1 });
            return [.. Enumerable.Range(0, 50).Select(_ => s.Sample(logits, []))];
        }

        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
    }

    [Theory]
    [InlineData(0f, 40)]
    [InlineData(-1f, 0)]
    [InlineData(0.8f, 1)]
    [InlineData(1.5f, 1)]
    public void Sample_TemperatureZeroOrTopKOne_EqualsArgMax(float temperature, int topK)
    {
        for (int seed = 0; seed < 20; seed++)
        {
            float[] logits = RandomLogits(1000, seed);
            int expected = Array.IndexOf(logits, logits.Max());
            var sampler = new Sampler(new SamplerOptions { Temperature = temperature, TopK = topK, Seed = (ulong)seed });
            Assert.True(sampler.IsGreedy);
            Assert.Equal(expected, sampler.Sample(logits, []));
        }
    }

    [Theory]
    [InlineData(0.7f, new[] { 0, 1 })]
    [InlineData(0.85f, new[] { 0, 1, 2 })]
    [InlineData(0.4f, new[] { 0 })]
    public void Sample_TopP_KeepsSmallestSetReachingP(float topP, int[] kept)
    {
        float[] logits = LogitsOf(0.5, 0.3, 0.15, 0.05);
        var options = new SamplerOptions { TopK = 0, TopP = topP, MinP = 0, Temperature = 1, Seed = 7 };
        Assert.Equal(kept.ToHashSet(), Draws(options, logits));
    }

    [Theory]
    [InlineData(0.1f, new[] { 0, 1 })]
    [InlineData(0.01f, new[] { 0, 1, 2 })]
    [InlineData(0.9f, new[] { 0 })]
    public void Sample_MinP_KeepsTokensAboveFractionOfBest(float minP, int[] kept)
    {
        float[] logits = LogitsOf(0.5, 0.3, 0.02, 0.001);
        var options = new SamplerOptions { TopK = 0, TopP = 1, MinP = minP, Temperature = 1, Seed = 3 };
        Assert.Equal(kept.ToHashSet(), Draws(options, logits, 2000));
    }

    [Fact]
    public void Sample_TopK_KeepsKBest()
    {
        float[] logits = [0.1f, 3f, 0.2f, 2.9f, 2.8f, 0f];
        var options = new SamplerOptions { TopK = 3, TopP = 1, MinP = 0, Temperature = 5, Seed = 11 };
        Assert.Equal(new HashSet<int> { 1, 3, 4 }, Draws(options, logits));
    }

    [Theory]
    [InlineData(1.2f, 0f, 0f)]
    [InlineData(1f, 0.1f, 0f)]
    [InlineData(1f, 0f, 0.2f)]
    public void Sample_PenaltiesOnSeenToken_ChangeGreedyChoice(float repeat, float frequency, float presence)
    {
        // Token 0 leads by 0.1 and was seen twice: each penalty alone pushes it below token 1.
        float[] logits = [1.0f, 0.9f, -5f];
        var options = new SamplerOptions { Temperature = 0, RepeatPenalty = repeat, FrequencyPenalty = frequency, PresencePenalty = presence };
        Assert.Equal(1, new Sampler(options).Sample(logits, [0, 0]));
        Assert.Equal(0, new Sampler(options).Sample(logits, [2]));
    }

    [Fact]
    public void Sample_RepeatPenaltyOnNegativeLogit_Multiplies()
    {
        // llama.cpp: a negative logit is multiplied by the penalty (made more negative), not divided.
        float[] logits = [-1.0f, -1.1f];
        var options = new SamplerOptions { Temperature = 0, RepeatPenalty = 1.2f };
        Assert.Equal(1, new Sampler(options).Sample(logits, [0]));
    }

    [Fact]
    public void Sample_PenaltyWindow_IgnoresOlderTokens()
    {
        float[] logits = [1.0f, 0.9f];
        var options = new SamplerOptions { Temperature = 0, PresencePenalty = 1f, PenaltyLastN = 1 };
        Assert.Equal(0, new Sampler(options).Sample(logits, [0, 0, 1]));
        Assert.Equal(1, new Sampler(options).Sample(logits, [1, 1, 0]));
    }

    [Fact]
    public void Sample_NaNLogits_Throws()
    {
        var sampler = new Sampler(SamplerOptions.Greedy);
        Assert.Throws<ArgumentException>(() => sampler.Sample([1f, float.NaN], []));
        Assert.Throws<ArgumentException>(() => sampler.Sample([], []));
    }

    [Theory]
    [InlineData(float.NaN, 0.9f, 0.05f)]
    [InlineData(1f, 0f, 0.05f)]
    [InlineData(1f, 1.5f, 0.05f)]
    [InlineData(1f, 0.9f, -0.1f)]
    public void Constructor_InvalidOptions_Throws(float temperature, float topP, float minP) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplerOptions { Temperature = temperature, TopP = topP, MinP = minP }));
}
