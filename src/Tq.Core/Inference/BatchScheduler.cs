using System.Diagnostics;
using System.Numerics;
using Tq.Core.Models;
using Tq.Core.Tensors;

namespace Tq.Core.Inference;

/// <summary>
/// The model's scheduler thread (continuous batching, as llama-server's slots): every step it gathers the pending
/// tokens of every session that awaits an evaluation and runs them through the model in one forward pass, so each
/// weight read serves all active sequences. A session joins or leaves between steps; a long prompt is evaluated in
/// chunks, so the sessions that are decoding keep getting a token per step while it prefills.
/// </summary>
/// <remarks>
/// <para>A step is either one decode token of every session that waits for one (a pass of one row per sequence uses
/// the per-row dot products of a lone decode step, so a sequence gets the same bits whoever shares the pass), or chunks
/// of the waiting prompts in arrival order, each at most its session's batch size, never leaving a tail of fewer than
/// 4 tokens (passes of 4+ rows use the tiled kernel, whose rows do not depend on each other). When both wait they take
/// turns, and a prompt chunk then takes at most <see cref="PrefillTokensWhileDecoding"/> tokens, so a long prompt does
/// not stall the other streams for a whole 512-token pass.</para>
/// <para>A session whose decode step just finished usually comes back with its next token within a millisecond (its
/// caller samples and asks again). The next step waits up to <see cref="Linger"/> for those sessions, so the batch does
/// not split into alternating halves.</para>
/// <para>Cancellation is checked before every step; the tokens evaluated so far stay in the session's history, as with
/// the synchronous calls. The thread starts on the first evaluation and ends when the model is disposed; evaluations
/// still pending then fail with <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
internal sealed class BatchScheduler : IDisposable
{
    /// <summary>The most prompt tokens a step takes while other sessions decode in it.</summary>
    internal const int PrefillTokensWhileDecoding = 64;

    /// <summary>How long a step waits for the sessions of the previous step to come back with their next token.</summary>
    internal static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(5);

    private readonly Model _model;
    private readonly int _maxBatch;
    private readonly object _lock = new();
    private readonly List<ScheduledEvaluation> _pending = [];
    private readonly List<ScheduledEvaluation> _running = [];
    private readonly List<Session> _expected = [];
    private readonly long _lingerTicks = (long)(Linger.TotalSeconds * Stopwatch.Frequency);
    private Thread? _thread;
    private ForwardScratch? _scratch;
    private readonly int[] _tokens;
    private readonly SequenceSlice[] _slices;
    private long _stepEnd;
    private bool _promptTurn;
    private long _steps;
    private long _batchedTokens;
    private bool _disposed;

    /// <summary>Creates the scheduler of <paramref name="model"/> (its thread starts with the first evaluation).</summary>
    /// <param name="model">The model.</param>
    /// <param name="maxBatch">The most tokens one step takes across all sessions.</param>
    public BatchScheduler(Model model, int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        _model = model;
        _maxBatch = maxBatch;
        _tokens = new int[maxBatch];
        _slices = new SequenceSlice[maxBatch];
    }

    /// <summary>Forward passes run so far.</summary>
    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>Tokens evaluated so far (over all steps; divided by <see cref="Steps"/>, the mean batch).</summary>
    public long Tokens => Interlocked.Read(ref _batchedTokens);

    /// <summary>Hands <paramref name="evaluation"/> (started by its session) to the scheduler thread.</summary>
    /// <exception cref="InvalidOperationException">The session is already evaluating.</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public void Enqueue(ScheduledEvaluation evaluation)
    {
        CancellationToken cancellationToken = evaluation.CancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            evaluation.Registration = cancellationToken.UnsafeRegister(static state => ((BatchScheduler)state!).Wake(), this);
        }

        lock (_lock)
        {
            if (_disposed || evaluation.Session.IsScheduled)
            {
                evaluation.Registration.Unregister();
                evaluation.Registration = default;
                ObjectDisposedException.ThrowIf(_disposed, _model);
                throw new InvalidOperationException("The session is evaluating on the scheduler; await that call before using the session again.");
            }

            evaluation.Session.IsScheduled = true;
            _pending.Add(evaluation);
            if (_thread is null)
            {
                _thread = new Thread(Loop) { IsBackground = true, Name = "Tq scheduler" };
                _thread.Start();
            }

            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>
    /// Takes <paramref name="session"/>'s evaluation back (its session is being disposed): a pending one fails with
    /// <see cref="ObjectDisposedException"/>; one inside the running step is waited for.
    /// </summary>
    public void Withdraw(Session session)
    {
        lock (_lock)
        {
            while (IsIn(_running, session))
            {
                Monitor.Wait(_lock);
            }

            for (int i = 0; i < _pending.Count; i++)
            {
                if (_pending[i].Session == session)
                {
                    ScheduledEvaluation evaluation = _pending[i];
                    _pending.RemoveAt(i);
                    Finish(evaluation, new ObjectDisposedException(nameof(Session), "The session was disposed while it was evaluating."));
                    break;
                }
            }

            _expected.Remove(session);
        }
    }

    /// <summary>Stops the thread after the running step; pending evaluations fail with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            thread = _thread;
            Monitor.PulseAll(_lock);
        }

        if (thread is not null && thread != Thread.CurrentThread)
        {
            thread.Join();
        }
    }

    // Under the lock: the session is free again before its caller's continuation runs.
    private static void Finish(ScheduledEvaluation evaluation, Exception? error = null)
    {
        evaluation.Session.IsScheduled = false;
        evaluation.Complete(error);
    }

    private static bool IsIn(List<ScheduledEvaluation> evaluations, Session session)
    {
        foreach (ScheduledEvaluation evaluation in evaluations)
        {
            if (evaluation.Session == session)
            {
                return true;
            }
        }

        return false;
    }

    private void Wake()
    {
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
        }
    }

    private void Loop()
    {
        while (true)
        {
            lock (_lock)
            {
                if (!WaitForWork())
                {
                    return;
                }

                _running.AddRange(_pending);
            }

            try
            {
                Step();
            }
            catch (Exception ex)
            {
                // A failed pass leaves nothing committed: each session keeps the history it had before the step.
                lock (_lock)
                {
                    foreach (ScheduledEvaluation evaluation in _running)
                    {
                        // Those the step finished before the failure left the pending list already.
                        if (_pending.Remove(evaluation))
                        {
                            Finish(evaluation, ex);
                        }
                    }
                }
            }

            lock (_lock)
            {
                _running.Clear();
                _stepEnd = Stopwatch.GetTimestamp();
                Monitor.PulseAll(_lock);
            }
        }
    }

    // Under the lock: drops cancelled evaluations, waits for work (and briefly for the sessions of the last step);
    // false when the scheduler is disposed.
    private bool WaitForWork()
    {
        while (true)
        {
            if (_disposed)
            {
                foreach (ScheduledEvaluation evaluation in _pending)
                {
                    Finish(evaluation, new ObjectDisposedException(nameof(Model), "The model was disposed while the evaluation was pending."));
                }

                _pending.Clear();
                return false;
            }

            for (int i = _pending.Count - 1; i >= 0; i--)
            {
                ScheduledEvaluation evaluation = _pending[i];
                if (evaluation.CancellationToken.IsCancellationRequested)
                {
                    _pending.RemoveAt(i);
                    Finish(evaluation, new OperationCanceledException(evaluation.CancellationToken));
                }
            }

            long waitTicks = _stepEnd + _lingerTicks - Stopwatch.GetTimestamp();
            if (_pending.Count == 0)
            {
                // Right after a step nobody has asked yet: keep expecting its sessions for the linger time, so the first
                // one back does not start a pass alone while the others are still sampling.
                if (waitTicks > 0 && _expected.Count > 0)
                {
                    Monitor.Wait(_lock, TimeSpan.FromTicks(Math.Max(1, waitTicks * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
                }
                else
                {
                    _expected.Clear();
                    Monitor.Wait(_lock);
                }

                continue;
            }

            if (waitTicks > 0 && AnyExpectedMissing())
            {
                Monitor.Wait(_lock, TimeSpan.FromTicks(Math.Max(1, waitTicks * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
                continue;
            }

            _expected.Clear();
            return true;
        }
    }

    private bool AnyExpectedMissing()
    {
        foreach (Session session in _expected)
        {
            if (!IsIn(_pending, session))
            {
                return true;
            }
        }

        return false;
    }

    // Runs one forward pass over the running evaluations (outside the lock; only this thread touches their sessions).
    private void Step()
    {
        foreach (ScheduledEvaluation evaluation in _running)
        {
            evaluation.Slice = -1;
            if (evaluation.IsPrompt && !evaluation.Prepared)
            {
                evaluation.Reused = evaluation.Session.KeepPrefixOf(evaluation.Tokens, MatMul.TiledMinTokens);
                evaluation.Next = evaluation.Reused;
                evaluation.Prepared = true;
            }
        }

        // Sessions of one step must share their RoPE tables: the first evaluation's context length decides. A step is
        // either decode steps only (one token per session: per-row dot products, the bits of a lone decode step) or
        // prompt chunks only; when both wait, they take turns.
        int context = _running[0].Session.ContextLength;
        bool anyDecode = false, anyPrompt = false;
        foreach (ScheduledEvaluation evaluation in _running)
        {
            anyDecode |= IsDecode(evaluation);
            anyPrompt |= !IsDecode(evaluation);
        }

        bool decodeStep = anyDecode && !(anyPrompt && _promptTurn);
        _promptTurn = !decodeStep;
        int count = 0, rows = 0;
        foreach (ScheduledEvaluation evaluation in _running)
        {
            if (IsDecode(evaluation) != decodeStep || evaluation.Session.ContextLength != context || rows == _maxBatch)
            {
                continue;
            }

            // Fewer than 4 prompt tokens take per-row dot products alone, as they do on the calling thread: such a
            // chunk has a pass of its own.
            if (!decodeStep && evaluation.Remaining < MatMul.TiledMinTokens && count > 0)
            {
                continue;
            }

            int take = Math.Min(Math.Min(evaluation.Remaining, evaluation.Session.BatchSize), _maxBatch - rows);
            if (anyDecode && !decodeStep)
            {
                take = Math.Min(take, PrefillTokensWhileDecoding);
            }

            // A chunk never leaves a tail of 1-3 tokens: passes of 4+ rows use the tiled kernel, whose rows do not depend
            // on each other, so a prompt gets the same bits however it is split and whatever shares its passes.
            int tail = evaluation.Remaining - take;
            if (tail is > 0 and < MatMul.TiledMinTokens && take > MatMul.TiledMinTokens)
            {
                take = Math.Max(MatMul.TiledMinTokens, take - (MatMul.TiledMinTokens - tail));
            }

            rows = Add(evaluation, take, count++, rows);
            if (!decodeStep && take < MatMul.TiledMinTokens)
            {
                break;
            }
        }

        // The activations are sized by the largest pass so far (a power of two, at most the batch bound): serving decode
        // steps only keeps a few rows instead of a whole 512-token prompt pass (~55 MB for a 1B model).
        ForwardScratch? scratch = _scratch;
        if (scratch is null || scratch.MaxBatch < rows)
        {
            _scratch = null;
            scratch = _scratch = new ForwardScratch(_model, Math.Min(_maxBatch, Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)rows))));
        }

        ReadOnlySpan<SequenceSlice> slices = _slices.AsSpan(0, count);
        _model.Forward(_tokens.AsSpan(0, rows), slices, scratch, allLogits: false);
        Interlocked.Increment(ref _steps);
        Interlocked.Add(ref _batchedTokens, rows);
        int vocab = _model.VocabularySize;
        lock (_lock)
        {
            foreach (ScheduledEvaluation evaluation in _running)
            {
                if (evaluation.Slice >= 0)
                {
                    SequenceSlice slice = slices[evaluation.Slice];
                    evaluation.Session.Evaluated(_tokens.AsSpan(slice.Start, slice.Count), scratch.Logits.AsSpan(evaluation.Slice * vocab, vocab));
                    evaluation.Next += slice.Count;
                }

                if (evaluation.Remaining == 0)
                {
                    _pending.Remove(evaluation);
                    if (IsDecode(evaluation))
                    {
                        _expected.Add(evaluation.Session);
                    }

                    Finish(evaluation);
                }
            }
        }
    }

    private static bool IsDecode(ScheduledEvaluation evaluation) => !evaluation.IsPrompt && evaluation.Count == 1;

    private int Add(ScheduledEvaluation evaluation, int take, int index, int rows)
    {
        evaluation.Tokens.Slice(evaluation.Next, take).CopyTo(_tokens.AsSpan(rows));
        _slices[index] = new SequenceSlice(evaluation.Session.Cache, evaluation.Session.Length, rows, take);
        evaluation.Slice = index;
        return rows + take;
    }
}
