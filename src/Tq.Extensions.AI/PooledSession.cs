using Tq.Core.Inference;

namespace Tq.Extensions.AI;

/// <summary>A session of a <see cref="SessionPool"/> with what the pool needs to choose and evict it.</summary>
internal sealed class PooledSession(Session session)
{
    /// <summary>The session (its KV cache and token history).</summary>
    public Session Session { get; } = session;

    /// <summary>The conversation that last used the session, if the caller named one.</summary>
    public string? ConversationId { get; set; }

    /// <summary>When the session was last returned (a monotonic tick), for LRU eviction.</summary>
    public long LastUsed { get; set; }
}
