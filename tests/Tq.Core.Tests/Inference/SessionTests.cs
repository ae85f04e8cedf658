using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Sampling;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Inference;

public sealed class SessionTests : IDisposable
{
    // One thread: tests run in parallel with other suites on 2 shared cores, where a multi-threaded pool per test
    // only adds scheduler waits; Evaluate_TwoThreads_SameLogitsAsOne covers the threaded path.

    // Prompts of stories260K's vocabulary (ids from llama.cpp's greedy reference).
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317];
    private readonly Model _model = Model.Load(TestPaths.Model("stories260K.gguf"), new ModelOptions { Threads = 1 });

    public void Dispose() => _model.Dispose();

    private float[] FreshLogits(ReadOnlySpan<int> tokens, int batch = 512)
    {
        using Session fresh = _model.CreateSession(new SessionOptions { ContextLength = 64, BatchSize = batch });
        fresh.Evaluate(tokens);
        return fresh.Logits.ToArray();
    }

    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-3f * (1 + Math.Abs(expected[i])), $"logit {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Prompt_SharedPrefix_EvaluatesOnlyNewTokensWithSameLogits()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 64 });
        int[] other = [.. Prompt[..8], 300, 301, 302];
        Assert.Equal(0, session.SetHistory(other));
        Assert.Equal(8, session.SetHistory(Prompt));
        Assert.Equal(Prompt, session.Tokens.ToArray());
        AssertClose(FreshLogits(Prompt), session.Logits);

        // The same prompt again reuses all but the last token, which is re-evaluated for its logits.
        Assert.Equal(Prompt.Length - 1, session.SetHistory(Prompt));
        AssertClose(FreshLogits(Prompt), session.Logits);
    }

    [Fact]
    public void Truncate_ThenContinue_EqualsPrefillOfTruncatedHistory()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 64 });
        session.Evaluate(Prompt);
        session.Truncate(6);
        Assert.Equal(6, session.Length);
        Assert.Throws<InvalidOperationException>(() => session.Logits.ToArray());
        session.Evaluate([420, 421]);
        AssertClose(FreshLogits([.. Prompt[..6], 420, 421]), session.Logits);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    public void Evaluate_AnyBatchSize_SameLogits(int batch) =>
        AssertClose(FreshLogits(Prompt), FreshLogits(Prompt, batch));

    [Fact]
    public void Decode_TokenByToken_EqualsPrefill()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 64 });
        foreach (int token in Prompt)
        {
            session.Append(token);
        }

        AssertClose(FreshLogits(Prompt), session.Logits);
    }

    [Fact]
    public void Prompt_LongerThanContext_ThrowsAndLeavesSessionUnchanged()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 10 });
        session.Evaluate(Prompt.AsSpan(0, 3));
        var ex = Assert.Throws<ContextOverflowException>(() => session.SetHistory(Prompt));
        Assert.Equal(Prompt.Length, ex.Requested);
        Assert.Equal(10, ex.ContextLength);
        Assert.Throws<ContextOverflowException>(() => session.Evaluate(Prompt.AsSpan(0, 8)));
        Assert.Equal(3, session.Length);
    }

    [Fact]
    public void Generate_PastContext_Throws()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 8 });
        session.Evaluate(Prompt.AsSpan(0, 5));
        Assert.Throws<ContextOverflowException>(() => session.Generate(new Sampler(SamplerOptions.Greedy), 10).ToList());
    }

    [Fact]
    public void Generate_Cancelled_Stops()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 64 });
        session.Evaluate(Prompt.AsSpan(0, 5));
        using var cts = new CancellationTokenSource();
        int produced = 0;
        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (int _ in session.Generate(new Sampler(SamplerOptions.Greedy), 30, cancellationToken: cts.Token))
            {
                if (++produced == 3)
                {
                    cts.Cancel();
                }
            }
        });
        Assert.Equal(3, produced);
    }

    [Fact]
    public void Generate_EndOfGeneration_StopsAfterThatToken()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 64 });
        session.Evaluate(Prompt.AsSpan(0, 5));
        int[] all = [.. session.Generate(new Sampler(SamplerOptions.Greedy), 10)];
        session.Reset();
        session.Evaluate(Prompt.AsSpan(0, 5));
        int[] stopped = [.. session.Generate(new Sampler(SamplerOptions.Greedy), 10, t => t == all[2])];
        Assert.Equal(all[..3], stopped);
    }

    [Fact]
    public void Reset_ForgetsHistory()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 64 });
        session.Evaluate(Prompt);
        session.Reset();
        Assert.Equal(0, session.Length);
        Assert.Throws<InvalidOperationException>(() => session.Logits.ToArray());
        session.Evaluate(Prompt.AsSpan(0, 4));
        AssertClose(FreshLogits(Prompt.AsSpan(0, 4)), session.Logits);
    }

    [Fact]
    public void Evaluate_TokenOutsideVocabulary_Throws()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 64 });
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Evaluate([1, 512]));
    }

    [Fact]
    public void Append_SteadyState_AllocatesNothing()
    {
        using Session session = _model.CreateSession(new SessionOptions { ContextLength = 64 });
        var sampler = new Sampler(new SamplerOptions { Seed = 1 });
        session.Evaluate(Prompt);
        for (int i = 0; i < 4; i++)
        {
            session.Append(sampler.Sample(session.Logits, session.Tokens));
        }

        Assert.Equal(0, SteadyState.AllocatedBytes(() => session.Append(sampler.Sample(session.Logits, session.Tokens))));
    }

    [Fact]
    public void Evaluate_TwoThreads_SameLogitsAsOne()
    {
        using Model threaded = Model.Load(TestPaths.Model("tq-stories-5m-q4_k_m.gguf"), new ModelOptions { Threads = 2 });
        using Model single = Model.Load(TestPaths.Model("tq-stories-5m-q4_k_m.gguf"), new ModelOptions { Threads = 1 });
        using Session a = threaded.CreateSession(new SessionOptions { ContextLength = 64 });
        using Session b = single.CreateSession(new SessionOptions { ContextLength = 64 });
        a.Evaluate(Prompt);
        b.Evaluate(Prompt);
        a.Append(300);
        b.Append(300);
        Assert.Equal(b.Logits.ToArray(), a.Logits.ToArray());
    }
}
