using Tq.Core.Inference;
using Tq.Core.Models;

namespace Tq.Extensions.AI;

/// <summary>
/// The sessions of one model, bounded in number and KV-cache memory. A request rents a session: the idle one that
/// served the same conversation, else the idle one whose token history shares the longest prefix with the prompt (so
/// only the new tokens are prefilled), else a new one while under the bound, else the least recently used idle one
/// (its cache is reused from scratch). When every session is busy, requests wait (cancellable) for one to be returned.
/// </summary>
/// <remarks>
/// Invariant: busy ≤ <see cref="MaxSessions"/> (a semaphore) and busy + idle ≤ <see cref="MaxSessions"/>, so a request
/// that passed the semaphore always finds an idle session or room for a new one.
/// </remarks>
internal sealed class SessionPool : IDisposable
{
    private readonly Model _model;
    private readonly SessionOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly List<PooledSession> _idle = [];
    private readonly List<PooledSession> _all = [];
    private readonly object _lock = new();
    private int _live;
    private long _clock;
    private bool _disposed;

    public SessionPool(Model model, SessionOptions options, int maxConcurrentSessions, long maxKvCacheBytes)
    {
        _model = model;
        _options = options;
        F16BytesPerToken = (long)model.LayerCount * model.Info.HeadCountKv * (model.Info.KeyLength + model.Info.ValueLength) * sizeof(ushort);

        // The first session measures the cache kind's real size; it then waits idle for the first request.
        var first = new PooledSession(model.CreateSession(options));
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
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                int best = -1, bestPrefix = 0;
                for (int i = 0; i < _idle.Count; i++)
                {
                    PooledSession candidate = _idle[i];
                    if (conversationId is not null && candidate.ConversationId == conversationId)
                    {
                        best = i;
                        break;
                    }

                    int prefix = prompt.AsSpan().CommonPrefixLength(candidate.Session.Tokens);
                    if (prefix > bestPrefix)
                    {
                        best = i;
                        bestPrefix = prefix;
                    }
                }

                if (best < 0)
                {
                    // No shared prefix: an empty session costs nothing to take; at the bound, evict the least recently
                    // used one (the list is kept in return order).
                    best = _idle.FindIndex(p => p.Session.Length == 0);
                    if (best < 0 && _live == MaxSessions && _idle.Count > 0)
                    {
                        best = 0;
                    }
                }

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
        lock (_lock)
        {
            _live--;
            _all.Remove(session);
        }

        session.Session.Dispose();
        _slots.Release();
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

    /// <summary>Releases the idle sessions; busy ones are released when returned.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            TurboQuantTelemetry.Unregister(this);
            foreach (PooledSession session in _idle)
            {
                _all.Remove(session);
                session.Session.Dispose();
            }

            _live -= _idle.Count;
            _idle.Clear();
        }
    }
}
