using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>The session pool's choice: conversation, longest prefix, empty, new, then least recently used.</summary>
public sealed class SessionPoolTests : IDisposable
{
    private readonly Model _model = Model.Load(TestPaths.Model(ChatModels.F16), new ModelOptions { Threads = 1 });

    public void Dispose() => _model.Dispose();

    [Fact]
    public async Task RentAsync_AtTheBound_PrefersPrefixThenEvictsLeastRecentlyUsed()
    {
        using var pool = new SessionPool(_model, new SessionOptions { ContextLength = 64 }, maxConcurrentSessions: 2, maxKvCacheBytes: 0);

        PooledSession a = await Use(pool, [1, 2, 3]);
        PooledSession b = await Use(pool, [4, 5, 6]);
        PooledSession again = await Use(pool, [1, 2, 3, 7]);    // shares [1, 2, 3] with a: a is now the most recent
        PooledSession evicted = await Use(pool, [9, 9]);        // shares nothing, no room: the least recently used (b)

        Assert.NotSame(a, b);
        Assert.Same(a, again);
        Assert.Same(b, evicted);
        Assert.Equal([9, 9], evicted.Session.Tokens.ToArray());
        Assert.Equal((2, 0), (pool.Snapshot().Live, pool.Snapshot().Busy));
    }

    [Fact]
    public async Task RentAsync_ConversationId_WinsOverALongerPrefix()
    {
        using var pool = new SessionPool(_model, new SessionOptions { ContextLength = 64 }, maxConcurrentSessions: 2, maxKvCacheBytes: 0);
        PooledSession mine = await Use(pool, [1, 2], "mine");
        _ = await Use(pool, [1, 2, 3, 4], null);

        PooledSession chosen = await pool.RentAsync("mine", [1, 2, 3, 4, 5], CancellationToken.None);

        Assert.Same(mine, chosen);
        pool.Return(chosen, "mine");
    }

    [Fact]
    public async Task RentAsync_SharedBosOnlyUnderTheBound_KeepsTheOtherConversationWarm()
    {
        using var pool = new SessionPool(_model, new SessionOptions { ContextLength = 64 }, maxConcurrentSessions: 2, maxKvCacheBytes: 0);
        PooledSession warm = await Use(pool, [1, 20, 21, 22, 23, 24, 25]);

        PooledSession other = await Use(pool, [1, 30, 31]);     // shares only the BOS token: a new session, warm stays
        PooledSession atBound = await Use(pool, [1, 20, 40]);   // no room left: the longest shared prefix is reused

        Assert.NotSame(warm, other);
        Assert.Equal([1, 30, 31], other.Session.Tokens.ToArray());
        Assert.Same(warm, atBound);
    }

    [Fact]
    public async Task Dispose_WithABusySession_FreesItAndRefusesNewWork()
    {
        var pool = new SessionPool(_model, new SessionOptions { ContextLength = 64 }, maxConcurrentSessions: 2, maxKvCacheBytes: 0);
        PooledSession busy = await pool.RentAsync(null, [1, 2], CancellationToken.None);

        pool.Dispose();

        Assert.True(pool.ShutdownToken.IsCancellationRequested);
        Assert.Throws<ObjectDisposedException>(() => busy.Session.SetHistory([1, 2]));
        Assert.Throws<ObjectDisposedException>(() => pool.Enter());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pool.RentAsync(null, [1], CancellationToken.None));
        pool.Return(busy, null); // a late return after shutdown is harmless
    }

    [Fact]
    public void Constructor_KvBoundBelowOneSession_ThrowsNamingTheSizes()
    {
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => new SessionPool(_model, new SessionOptions { ContextLength = 1024 }, 4, 1000));

        Assert.Contains("MaxKvCacheBytes (1,000) cannot hold one session", e.Message, StringComparison.Ordinal);
    }

    private static async Task<PooledSession> Use(SessionPool pool, int[] prompt, string? conversation = null)
    {
        PooledSession session = await pool.RentAsync(conversation, prompt, CancellationToken.None);
        session.Session.SetHistory(prompt);
        pool.Return(session, conversation);
        return session;
    }
}
