using Tq.Core.Diagnostics;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Tests.Engine;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Diagnostics;

public sealed class PerplexityEvaluatorTests
{
    [Fact]
    public void Evaluate_TwoChunks_EqualsNllOfSecondHalvesWithBosFirst()
    {
        // The method written out independently: per chunk, BOS first, decode token by token, score from n_ctx/2 on.
        int[] tokens = ReferenceData.Tokens("stories260K", "tinystories_val_prefix.txt");
        const int ctx = 64;
        using Model model = Model.Load(TestPaths.Model("stories260K.gguf"), new ModelOptions { Threads = 1 });
        PerplexityResult result = PerplexityEvaluator.Evaluate(model, tokens, ctx, maxChunks: 2, batchSize: 16);

        double nll = 0;
        int count = 0;
        using Session session = model.CreateSession(new SessionOptions { ContextLength = ctx });
        for (int c = 0; c < 2; c++)
        {
            session.Reset();
            for (int j = 0; j < ctx - 1; j++)
            {
                session.Append(j == 0 ? model.BosTokenId : tokens[(c * ctx) + j]);
                if (j >= ctx / 2)
                {
                    float[] logits = session.Logits.ToArray();
                    double max = logits.Max();
                    nll -= logits[tokens[(c * ctx) + j + 1]] - max - Math.Log(logits.Sum(l => Math.Exp(l - max)));
                    count++;
                }
            }
        }

        Assert.Equal(2, result.Chunks);
        Assert.Equal(count, result.ScoredTokens);
        Assert.Equal(Math.Exp(nll / count), result.Perplexity, 1e-3);
        Assert.Equal(2, result.RunningEstimates.Count);
        Assert.True(result.Error > 0);
    }

    [Fact]
    public void Evaluate_TooFewTokens_Throws()
    {
        using Model model = Model.Load(TestPaths.Model("stories260K.gguf"), new ModelOptions { Threads = 1 });
        Assert.Throws<ArgumentException>(() => PerplexityEvaluator.Evaluate(model, new int[100], 64));
    }
}
