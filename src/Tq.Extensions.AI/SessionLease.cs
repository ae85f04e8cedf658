namespace Tq.Extensions.AI;

/// <summary>
/// One request's hold on a pooled session and its cancellation: the caller's token linked to the pool's shutdown.
/// Released exactly once, by the request when it ends, or by the finalizer when a caller abandons its enumerator
/// without disposing it (the session goes back to the pool instead of holding its slot forever).
/// </summary>
internal sealed class SessionLease
{
    private readonly PooledSession _session;
    private readonly CancellationTokenSource _cancellation;
    private SessionPool? _pool;

    private SessionLease(SessionPool pool, PooledSession session, CancellationTokenSource cancellation)
    {
        _pool = pool;
        _session = session;
        _cancellation = cancellation;
    }

    ~SessionLease()
    {
        // Unreachable means no step is running: between steps the session's history is exact, so it can be reused.
        Release(consistent: true, conversationId: null);
    }

    /// <summary>The rented session.</summary>
    public Tq.Core.Inference.Session Session => _session.Session;

    /// <summary>Cancelled by the caller or when the engine shuts down.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>Waits for a session of <paramref name="pool"/> (see <see cref="SessionPool.RentAsync"/>).</summary>
    public static async ValueTask<SessionLease> RentAsync(SessionPool pool, string? conversationId, int[] prompt, CancellationToken cancellationToken)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, pool.ShutdownToken);
        try
        {
            PooledSession session = await pool.RentAsync(conversationId, prompt, cancellation.Token).ConfigureAwait(false);
            return new SessionLease(pool, session, cancellation);
        }
        catch
        {
            cancellation.Dispose();
            throw;
        }
    }

    /// <summary>Returns the session (or discards it when its state is unknown); later calls do nothing.</summary>
    public void Release(bool consistent, string? conversationId)
    {
        SessionPool? pool = Interlocked.Exchange(ref _pool, null);
        if (pool is null)
        {
            return;
        }

#pragma warning disable CA1816 // Release is this type's Dispose: it runs once, from the request or from the finalizer.
        GC.SuppressFinalize(this);
#pragma warning restore CA1816
        _cancellation.Dispose();
        if (consistent)
        {
            pool.Return(_session, conversationId);
        }
        else
        {
            pool.Discard(_session);
        }
    }
}
