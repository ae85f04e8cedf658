using Tq.Core.Cache;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Tensors;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Inference;

/// <summary>
/// The asynchronous session calls, which the model's scheduler thread batches across sessions (continuous batching):
/// a sequence computed in a shared forward pass must get what it gets alone.
/// </summary>
public sealed class BatchSchedulerTests : IDisposable
{
    // Prompts of the stories vocabulary (ids from llama.cpp's greedy reference of stories260K; the 5M models share its first ids).
    private static readonly int[][] Prompts =
    [
        [1, 403, 407, 261, 378, 432, 383, 286],
        [1, 261, 376, 298, 315, 421, 395, 317, 403, 407],
        [1, 378, 432, 383],
        [1, 298, 315, 421, 395, 317, 261, 376, 298, 315, 421, 395, 317, 403],
        [1, 432, 383, 286, 261, 376],
    ];

    private readonly Model _model = Model.Load(TestPaths.Model("tq-stories-5m-q4_k_m.gguf"), new ModelOptions { Threads = 2 });

    public void Dispose() => _model.Dispose();

    private Session NewSession(int batch = 512, KvCacheOptions? cache = null) => NewSession(_model, batch, cache);

    private static Session NewSession(Model model, int batch = 512, KvCacheOptions? cache = null) =>
        model.CreateSession(new SessionOptions { ContextLength = 128, BatchSize = batch, KvCache = cache ?? new KvCacheOptions() });

    // Greedy decode of one session alone, on the calling thread: the tokens and the logits of every step.
    private (int[] Tokens, float[][] Logits) Alone(int[] prompt, int steps, KvCacheOptions? cache = null) => Alone(_model, prompt, steps, cache);

    private static (int[] Tokens, float[][] Logits) Alone(Model model, int[] prompt, int steps, KvCacheOptions? cache = null)
    {
        using Session session = NewSession(model, cache: cache);
        session.SetHistory(prompt);
        var tokens = new int[steps];
        var logits = new float[steps][];
        for (int i = 0; i < steps; i++)
        {
            logits[i] = session.Logits.ToArray();
            tokens[i] = TensorMath.ArgMax(session.Logits);
            session.Append(tokens[i]);
        }

        return (tokens, logits);
    }

    private static async Task<(int[] Tokens, float[][] Logits)> DecodeAsync(Session session, int[] prompt, int steps)
    {
        await session.SetHistoryAsync(prompt);
        return await DecodeAsync(session, steps);
    }

    private static async Task<(int[] Tokens, float[][] Logits)> DecodeAsync(Session session, int steps)
    {
        var tokens = new int[steps];
        var logits = new float[steps][];
        for (int i = 0; i < steps; i++)
        {
            logits[i] = session.Logits.ToArray();
            tokens[i] = TensorMath.ArgMax(session.Logits);
            await session.AppendAsync(tokens[i]);
        }

        return (tokens, logits);
    }

    [Theory]
    [InlineData(KvCacheKind.F16)]
    [InlineData(KvCacheKind.Q8_0)]
    [InlineData(KvCacheKind.TurboQuant)]
    public async Task FiveSessionsTogether_ExactlyTheLogitsOfEachAlone(KvCacheKind kind)
    {
        // Prompt passes (tiled kernel, rows independent) and decode passes (one row per session, per-row dot products
        // as a lone decode step) interleave as the sessions arrive: every logit must be the bits of the session alone.
        const int Steps = 16;
        var cache = new KvCacheOptions { Kind = kind };
        Session[] sessions = [.. Prompts.Select(_ => NewSession(cache: cache))];
        try
        {
            long steps = _model.Scheduler.Steps, tokens = _model.Scheduler.Tokens;
            var results = await Task.WhenAll(sessions.Select((s, i) => DecodeAsync(s, Prompts[i], Steps)));
            for (int i = 0; i < sessions.Length; i++)
            {
                var alone = Alone(Prompts[i], Steps, cache);
                Assert.Equal(alone.Tokens, results[i].Tokens);
                for (int step = 0; step < Steps; step++)
                {
                    Assert.True(alone.Logits[step].AsSpan().SequenceEqual(results[i].Logits[step]), $"session {i} step {step}: the logits differ from the session's alone.");
                }
            }

            // 5 × 16 decode tokens plus the prompts: far fewer passes than tokens.
            steps = _model.Scheduler.Steps - steps;
            tokens = _model.Scheduler.Tokens - tokens;
            Assert.True(tokens >= 2 * steps, $"{tokens} tokens in {steps} passes: the sessions were not batched.");
        }
        finally
        {
            foreach (Session s in sessions)
            {
                s.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("arch-gemma3.gguf")]
    [InlineData("arch-gemma2.gguf")]
    [InlineData("arch-qwen3moe.gguf")]
    [InlineData("arch-phi3-longrope.gguf")]
    public async Task Architectures_SessionsTogether_ExactlyTheLogitsOfEachAlone(string file)
    {
        // Sliding-window rings (gemma), experts routed per row (qwen3moe), LongRoPE (phi3): 60 decode steps wrap the rings.
        using Model model = Model.Load(TestPaths.Model(Path.Combine("arch", file)), new ModelOptions { Threads = 2 });
        const int Steps = 60;
        Session[] sessions = [.. Prompts.Take(3).Select(_ => NewSession(model))];
        try
        {
            var results = await Task.WhenAll(sessions.Select((s, i) => DecodeAsync(s, Prompts[i], Steps)));
            for (int i = 0; i < sessions.Length; i++)
            {
                var alone = Alone(model, Prompts[i], Steps);
                Assert.Equal(alone.Tokens, results[i].Tokens);
                for (int step = 0; step < Steps; step++)
                {
                    Assert.True(alone.Logits[step].AsSpan().SequenceEqual(results[i].Logits[step]), $"session {i} step {step}: the logits differ from the session's alone.");
                }
            }
        }
        finally
        {
            foreach (Session s in sessions)
            {
                s.Dispose();
            }
        }
    }

    [Fact]
    public async Task PromptAsync_LongPromptWhileOthersDecode_SameAsAlone()
    {
        // A 100-token prompt in chunks of 16 shares passes with two decoding sessions.
        int[] longPrompt = [.. Enumerable.Range(0, 100).Select(i => Prompts[i % Prompts.Length][(i % 3) + 1])];
        longPrompt[0] = 1;
        using Session a = NewSession();
        using Session b = NewSession();
        using Session prefill = NewSession(batch: 16);
        Task<(int[], float[][])> decodeA = DecodeAsync(a, Prompts[0], 24);
        Task<(int[], float[][])> decodeB = DecodeAsync(b, Prompts[1], 24);
        int reused = await prefill.SetHistoryAsync(longPrompt);
        var (tokensA, _) = await decodeA;
        var (tokensB, _) = await decodeB;
        Assert.Equal(0, reused);
        Assert.Equal(longPrompt, prefill.Tokens.ToArray());
        using Session fresh = NewSession();
        fresh.Evaluate(longPrompt);
        Assert.Equal(fresh.Logits.ToArray(), prefill.Logits.ToArray());
        Assert.Equal(Alone(Prompts[0], 24).Tokens, tokensA);
        Assert.Equal(Alone(Prompts[1], 24).Tokens, tokensB);
    }

    [Fact]
    public async Task PromptAsync_WarmSession_ReusesPrefixAndReevaluatesTheLastFour()
    {
        using Session session = NewSession();
        Assert.Equal(0, await session.SetHistoryAsync(Prompts[3]));
        float[] first = session.Logits.ToArray();

        // The same prompt again: all but its last 4 tokens are reused, and the logits are the same bits.
        Assert.Equal(Prompts[3].Length - 4, await session.SetHistoryAsync(Prompts[3]));
        Assert.Equal(first, session.Logits.ToArray());

        int[] longer = [.. Prompts[3], 300, 301, 302, 303, 304, 305];
        Assert.Equal(Prompts[3].Length, await session.SetHistoryAsync(longer));
        Assert.Equal(longer, session.Tokens.ToArray());
    }

    [Fact]
    public async Task WhileEvaluating_TheSessionIsBusy()
    {
        using Session session = NewSession(batch: 4);
        int[] prompt = [.. Enumerable.Repeat(Prompts[3], 6).SelectMany(p => p)];
        Task<int> pending = session.SetHistoryAsync(prompt).AsTask();
        Assert.Throws<InvalidOperationException>(() => session.Evaluate([1]));
        Refused<InvalidOperationException>(() => session.AppendAsync(1));
        Assert.Throws<InvalidOperationException>(() => session.Truncate(0));
        Assert.Throws<InvalidOperationException>(() => session.Logits.ToArray());
        await pending;
        Assert.Equal(prompt.Length, session.Length);
        session.Append(TensorMath.ArgMax(session.Logits));
    }

    [Fact]
    public async Task Cancelled_BetweenPasses_KeepsTheEvaluatedPrefix()
    {
        using Session session = NewSession(batch: 4);
        int[] prompt = [.. Enumerable.Repeat(Prompts[3], 8).SelectMany(p => p)];
        using var cts = new CancellationTokenSource();
        Task<int> pending = session.SetHistoryAsync(prompt, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        Assert.True(session.Length < prompt.Length, $"{session.Length} of {prompt.Length} tokens evaluated after cancellation.");
        Assert.Equal(prompt[..session.Length], session.Tokens.ToArray());

        // Already cancelled: nothing runs; the session stays usable.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await session.AppendAsync(5, cts.Token));
        await session.SetHistoryAsync(Prompts[0]);
        Assert.Equal(Prompts[0], session.Tokens.ToArray());
    }

    [Fact]
    public async Task BadInput_IsRefusedBeforeAnythingRuns()
    {
        using Session session = NewSession();
        Refused<ArgumentOutOfRangeException>(() => session.AppendAsync(_model.VocabularySize));
        Refused<ArgumentException>(() => session.SetHistoryAsync(Array.Empty<int>()));
        Refused<ContextOverflowException>(() => session.SetHistoryAsync(new int[129]));
        await session.SetHistoryAsync(new int[128]);
        Refused<ContextOverflowException>(() => session.AppendAsync(1));
        Assert.Equal(128, session.Length);
    }

    [Fact]
    public async Task ModelDisposed_PendingEvaluationsEndWithObjectDisposed()
    {
        Model model = Model.Load(TestPaths.Model("tq-stories-5m-q4_k_m.gguf"), new ModelOptions { Threads = 1 });
        Session session = model.CreateSession(new SessionOptions { ContextLength = 512, BatchSize = 4 });
        int[] prompt = [.. Enumerable.Repeat(Prompts[3], 30).SelectMany(p => p)];
        Task<int> pending = session.SetHistoryAsync(prompt).AsTask();
        model.Dispose();
        Exception? error = await Record.ExceptionAsync(async () => await pending);
        Assert.True(error is null or ObjectDisposedException, $"Unexpected {error}");
        Refused<ObjectDisposedException>(() => session.AppendAsync(1));
    }

    [Fact]
    public async Task SessionDisposed_WhileEvaluating_EndsTheEvaluation()
    {
        Session session = NewSession(batch: 4);
        int[] prompt = [.. Enumerable.Repeat(Prompts[3], 8).SelectMany(p => p)];
        Task<int> pending = session.SetHistoryAsync(prompt).AsTask();
        session.Dispose();
        Exception? error = await Record.ExceptionAsync(async () => await pending);
        Assert.True(error is null or ObjectDisposedException, $"Unexpected {error}");

        // The scheduler goes on with other sessions.
        using Session other = NewSession();
        await other.SetHistoryAsync(Prompts[0]);
        Assert.Equal(Prompts[0].Length, other.Length);
    }

    // The call throws before it returns a value task (nothing was scheduled).
    private static void Refused<T>(Func<ValueTask> call)
        where T : Exception =>
        Assert.Throws<T>(() =>
        {
            Task ignored = call().AsTask();
        });

    private static void Refused<T>(Func<ValueTask<int>> call)
        where T : Exception =>
        Assert.Throws<T>(() =>
        {
            Task ignored = call().AsTask();
        });
}
