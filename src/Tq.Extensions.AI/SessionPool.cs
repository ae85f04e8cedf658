using Tq.Core.Cache;
using Tq.Core.Inference;
using Tq.Core.Models;

namespace Tq.Extensions.AI;

/// <summary>
/// The sessions of one model, bounded in number and KV-cache memory, and the one place of their lifecycle. A request
/// rents a session: the idle one that served the same conversation, else the idle one that shares most of its history
/// with the prompt (so only the new tokens are prefilled), else an empty or new one while under the bound, else the
/// idle one sharing the longest prefix, else the least recently used (its cache is reused from scratch). A warm
/// session of another conversation is not taken for a prefix as short as the BOS token while there is room. When every
/// session is busy, requests wait (cancellable) for one to be returned.
/// </summary>
/// <remarks>
/// <para>Invariant: busy ≤ <see cref="MaxSessions"/> (a semaphore) and busy + idle ≤ <see cref="MaxSessions"/>, so a request
/// that passed the semaphore always finds an idle session or room for a new one.</para>
/// <para>Shutdown: every call into a session's forward pass runs inside <see cref="Enter"/>. <see cref="Dispose"/>
/// cancels <see cref="ShutdownToken"/> (running generations stop at their next token or prefill batch), waits until no
/// call is inside, then frees every session, busy ones included; a later <see cref="Enter"/> throws
/// <see cref="ObjectDisposedException"/>, so nothing ever reads a freed cache or unmapped weights.</para>
/// </remarks>
internal sealed class SessionPool : IDisposable
{
    private readonly Model _model;
    private readonly SessionOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly List<PooledSession> _idle = [];
    private readonly List<PooledSession> _all = [];
    private readonly object _lock = new();
    private readonly CancellationTokenSource _shutdown = new();
    private int _live;
    private int _waiting;
    private int _active;
    private int _closing;
    private long _clock;
    private bool _disposed;

    public SessionPool(Model model, SessionOptions options, int maxConcurrentSessions, long maxKvCacheBytes)
    {
        _model = model;
        _options = options;

        // The first session measures the cache kind's real size; it then waits idle for the first request.
        var first = new PooledSession(model.CreateSession(options));
        F16BytesPerToken = KvCacheFactory.Footprint(first.Session.Cache.Layout, options.KvCache).F16BytesPerToken;
        BytesPerToken = first.Session.KvCacheBytesPerToken;
        BytesPerSession = Math.Max(first.Session.KvCacheBytes, BytesPerToken * options.ContextLength);
        int max = maxConcurrentSessions;
        if (maxKvCacheBytes > 0)
        {
            long fit = maxKvCacheBytes / BytesPerSession;
            if (fit < 1)
            {
                first.Session.Dispose();
                throw new InvalidOperationException(string.Create(
                    System.Globalization.CultureInfo.InvariantCulture,
                    $"MaxKvCacheBytes ({maxKvCacheBytes:N0}) cannot hold one session: a {options.ContextLength}-token KV cache takes up to {BytesPerSession:N0} bytes. Raise MaxKvCacheBytes, lower ContextSize or use fewer bits."));
            }

            max = (int)Math.Min(max, fit);
        }

        MaxSessions = max;
        _slots = new SemaphoreSlim(max, max);
        _all.Add(first);
        _idle.Add(first);
        _live = 1;
        TurboQuantTelemetry.Register(this);
    }

    /// <summary>The most sessions alive at once.</summary>
    public int MaxSessions { get; }

    /// <summary>KV-cache bytes per token of the sessions' cache kind.</summary>
    public long BytesPerToken { get; }

    /// <summary>KV-cache bytes per token of an FP16 cache.</summary>
    public long F16BytesPerToken { get; }

    /// <summary>KV-cache bytes of one session at full context (the bound <c>MaxKvCacheBytes</c> is checked against).</summary>
    public long BytesPerSession { get; }

    /// <summary>Requests waiting for a free session.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Cancelled when the pool shuts down: every generation runs on a token linked to it.</summary>
    public CancellationToken ShutdownToken => _shutdown.Token;

    /// <summary>Marks a call into a session's forward pass; dispose the scope when it returns.</summary>
    /// <exception cref="ObjectDisposedException">The pool is shutting down.</exception>
    public EngineScope Enter()
    {
        Interlocked.Increment(ref _active);
        if (Volatile.Read(ref _closing) != 0)
        {
            Interlocked.Decrement(ref _active);
            throw new ObjectDisposedException(nameof(TurboQuantEngine), "The engine was disposed while the request was running.");
        }

        return new EngineScope(this);
    }

    /// <summary>Live sessions, busy sessions and their KV-cache bytes.</summary>
    public (int Live, int Busy, long Bytes) Snapshot()
    {
        lock (_lock)
        {
            long bytes = 0;
            foreach (PooledSession session in _all)
            {
                bytes += session.Session.KvCacheBytes;
            }

            return (_live, _live - _idle.Count, bytes);
        }
    }

    /// <summary>Waits for a session and picks the one that reuses most of <paramref name="prompt"/>.</summary>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public async ValueTask<PooledSession> RentAsync(string? conversationId, int[] prompt, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closing) != 0, this);
        Interlocked.Increment(ref _waiting);
        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        try
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                int best = Choose(conversationId, prompt);

                if (best >= 0)
                {
                    PooledSession chosen = _idle[best];
                    _idle.RemoveAt(best);
                    return chosen;
                }

                _live++;
            }

            try
            {
                var session = new PooledSession(_model.CreateSession(_options));
                lock (_lock)
                {
                    _all.Add(session);
                }

                return session;
            }
            catch
            {
                lock (_lock)
                {
                    _live--;
                }

                throw;
            }
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>
    /// The idle session to take, or -1 for a new one. A session that keeps at least half of its history for this
    /// prompt is a continuation; taking one that keeps less would wipe another conversation's warm cache, so that
    /// happens only at the bound.
    /// </summary>
    private int Choose(string? conversationId, int[] prompt)
    {
        int continuation = -1, continuationPrefix = 0, partial = -1, partialPrefix = 0;
        for (int i = 0; i < _idle.Count; i++)
        {
            PooledSession candidate = _idle[i];
            if (conversationId is not null && candidate.ConversationId == conversationId)
            {
                return i;
            }

            int prefix = prompt.AsSpan().CommonPrefixLength(candidate.Session.Tokens);
            if (prefix > 0 && prefix * 2 >= candidate.Session.Length && prefix > continuationPrefix)
            {
                continuation = i;
                continuationPrefix = prefix;
            }
            else if (prefix > partialPrefix)
            {
                partial = i;
                partialPrefix = prefix;
            }
        }

        if (continuation >= 0)
        {
            return continuation;
        }

        int empty = _idle.FindIndex(p => p.Session.Length == 0);
        if (empty >= 0 || _live < MaxSessions)
        {
            return empty;
        }

        // At the bound: the longest shared prefix, else the least recently used (the list is kept in return order).
        return partial >= 0 ? partial : (_idle.Count > 0 ? 0 : -1);
    }

    /// <summary>Gives a session back for reuse by later requests.</summary>
    public void Return(PooledSession session, string? conversationId)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                _all.Remove(session);
                session.Session.Dispose();
                return;
            }

            session.ConversationId = conversationId ?? session.ConversationId;
            session.LastUsed = ++_clock;
            if (conversationId is not null)
            {
                foreach (PooledSession other in _idle)
                {
                    if (other.ConversationId == conversationId)
                    {
                        other.ConversationId = null;
                    }
                }
            }

            _idle.Add(session);
        }

        _slots.Release();
    }

    /// <summary>Drops a session whose state is unknown (e.g. an exception inside a forward pass).</summary>
    public void Discard(PooledSession session)
    {
        bool disposed;
        lock (_lock)
        {
            disposed = _disposed;
            _live--;
            _all.Remove(session);
        }

        session.Session.Dispose();
        if (!disposed)
        {
            _slots.Release();
        }
    }

    /// <summary>Forgets the idle sessions' histories (their caches stay allocated).</summary>
    public void ResetIdle()
    {
        lock (_lock)
        {
            foreach (PooledSession session in _idle)
            {
                session.Session.Reset();
                session.ConversationId = null;
            }
        }
    }

    /// <summary>
    /// Cancels the running generations, waits until none is inside the forward pass (each stops within one token or
    /// prefill batch), then frees every session, busy ones included.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _shutdown.Cancel();
        var spin = new SpinWait();
        while (Volatile.Read(ref _active) != 0)
        {
            spin.SpinOnce(sleep1Threshold: 20);
        }

        lock (_lock)
        {
            _disposed = true;
            TurboQuantTelemetry.Unregister(this);
            foreach (PooledSession session in _all)
            {
                session.Session.Dispose();
            }

            _all.Clear();
            _idle.Clear();
            _live = 0;
        }
    }

    /// <summary>The span of one call into the forward pass (see <see cref="Enter"/>).</summary>
    internal readonly struct EngineScope(SessionPool pool) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref pool._active);
    }
}
