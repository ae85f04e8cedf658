using System.Threading.Tasks.Sources;

namespace Tq.Core.Inference;

/// <summary>
/// A session's asynchronous evaluation on the <see cref="BatchScheduler"/>: the tokens still to run through the model,
/// and the value task its caller awaits. Each session owns one and reuses it for every call (one call at a time), so
/// awaiting a decode step allocates nothing. While it is active the session belongs to the scheduler.
/// </summary>
internal sealed class ScheduledEvaluation(Session session) : IValueTaskSource<int>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };
    private int[] _tokens = [];
    private bool _active;

    /// <summary>The session whose cache and history the tokens extend.</summary>
    public Session Session { get; } = session;

    /// <summary>The tokens to evaluate; for a prompt, the whole prompt (<see cref="Next"/> then skips the reused prefix).</summary>
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, Count);

    /// <summary>How many tokens this call evaluates.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the tokens are a prompt to make the history equal to (prefix reuse) rather than tokens to append.</summary>
    public bool IsPrompt { get; private set; }

    /// <summary>The caller's cancellation, checked before every forward pass.</summary>
    public CancellationToken CancellationToken { get; private set; }

    /// <summary>The registration that wakes the scheduler on cancellation.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>Whether a prompt's reused prefix has been kept (done on the scheduler thread, before the first pass).</summary>
    public bool Prepared { get; set; }

    /// <summary>Prompt tokens reused from the cache.</summary>
    public int Reused { get; set; }

    /// <summary>Index of the next token to evaluate.</summary>
    public int Next { get; set; }

    /// <summary>The evaluation's slice in the running step, or -1.</summary>
    public int Slice { get; set; } = -1;

    /// <summary>Tokens left to evaluate.</summary>
    public int Remaining => Count - Next;

    /// <summary>The value task of the current call.</summary>
    public short Version => _core.Version;

    /// <summary>Starts a new call with a copy of <paramref name="tokens"/>.</summary>
    public void Start(ReadOnlySpan<int> tokens, bool isPrompt, CancellationToken cancellationToken)
    {
        _core.Reset();
        if (_tokens.Length < tokens.Length)
        {
            _tokens = new int[Math.Max(tokens.Length, Math.Min(2 * _tokens.Length, Session.ContextLength))];
        }

        tokens.CopyTo(_tokens);
        Count = tokens.Length;
        IsPrompt = isPrompt;
        CancellationToken = cancellationToken;
        Prepared = false;
        Reused = 0;
        Next = 0;
        Slice = -1;
        _active = true;
    }

    /// <summary>Ends the call: a result, or the exception its awaiter sees (an <see cref="OperationCanceledException"/> for cancellation).</summary>
    public void Complete(Exception? error)
    {
        if (!_active)
        {
            // Already ended (a failed pass ends every evaluation of the step, some of which may have finished).
            return;
        }

        _active = false;
        // Unregister, not Dispose: this runs under the scheduler's lock, and Dispose would wait for a running callback
        // that waits for that lock. A late callback only wakes the scheduler.
        Registration.Unregister();
        Registration = default;
        if (error is null)
        {
            _core.SetResult(Reused);
        }
        else
        {
            _core.SetException(error);
        }
    }

    int IValueTaskSource<int>.GetResult(short token) => _core.GetResult(token);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _core.GetStatus(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
