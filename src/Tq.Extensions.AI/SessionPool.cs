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
    private readonly object _lock = new();
    private int _live;
    private long _clock;
    private bool _disposed;

    public SessionPool(Model model, SessionOptions options, int maxConcurrentSessions, long maxKvCacheBytes)
    {
        _model = model;
        _options = options;
        F16BytesPerToken = (long)model.LayerCount * model.Info.HeadCountKv * (model.Info.KeyLength + model.Info.ValueLength) * sizeof(ushort);
        BytesPerToken = F16BytesPerToken;
        BytesPerSession = BytesPerToken * options.ContextLength;
        int max = maxConcurrentSessions;
        if (maxKvCacheBytes > 0)
        {
            long fit = maxKvCacheBytes / BytesPerSession;
            if (fit < 1)
            {
                throw new InvalidOperationException(
                    $"MaxKvCacheBytes ({maxKvCacheBytes:N0}) cannot hold one session: a {options.ContextLength}-token KV cache takes {BytesPerSession:N0} bytes. Raise MaxKvCacheBytes or lower ContextLength.");
            }

            max = (int)Math.Min(max, fit);
        }

        MaxSessions = max;
        _slots = new SemaphoreSlim(max, max);
    }

    /// <summary>The most sessions alive at once.</summary>
    public int MaxSessions { get; }

    /// <summary>KV-cache bytes per token of the sessions' cache kind.</summary>
    public long BytesPerToken { get; }

    /// <summary>KV-cache bytes per token of an FP16 cache.</summary>
    public long F16BytesPerToken { get; }

    /// <summary>KV-cache bytes of one session (its caches are allocated for the whole context).</summary>
    public long BytesPerSession { get; }

    /// <summary>Live sessions, busy sessions and their KV-cache bytes.</summary>
    public (int Live, int Busy, long Bytes) Snapshot()
    {
        lock (_lock)
        {
            return (_live, _live - _idle.Count, _live * BytesPerSession);
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

                if (best < 0 && _live == MaxSessions && _idle.Count > 0)
                {
                    best = 0; // the least recently used (the list is kept in return order)
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
                TurboQuantTelemetry.KvCacheBytes.Add(session.Session.KvCacheBytes);
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
                DisposeSession(session);
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
        }

        DisposeSession(session);
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
            foreach (PooledSession session in _idle)
            {
                DisposeSession(session);
            }

            _live -= _idle.Count;
            _idle.Clear();
        }
    }

    private static void DisposeSession(PooledSession session)
    {
        TurboQuantTelemetry.KvCacheBytes.Add(-session.Session.KvCacheBytes);
        session.Session.Dispose();
    }
}
