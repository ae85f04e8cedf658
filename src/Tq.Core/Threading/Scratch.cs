namespace Tq.Core.Threading;

/// <summary>
/// Grow-on-demand scratch arrays. Where a slot lives says who owns the memory: a kernel run by the pool's workers
/// keeps one slot per worker (<c>[ThreadStatic]</c>, freed with the worker) and one in the instance it works for (a
/// cache, a session) for the calling thread, chosen with <see cref="WorkerPool.OnWorkerThread"/>; nothing stays
/// alive on a thread-pool thread after the instance is gone.
/// </summary>
internal static class Scratch
{
    /// <summary>The array in <paramref name="slot"/>, replaced when shorter than <paramref name="length"/> by one of at least <paramref name="length"/>, <paramref name="minimum"/> and twice the old length elements.</summary>
    public static T[] Grow<T>(ref T[]? slot, int length, int minimum)
    {
        T[]? array = slot;
        if (array is null || array.Length < length)
        {
            array = new T[Capacity(array, length, minimum)];
            slot = array;
        }

        return array;
    }

    /// <summary>As <see cref="Grow{T}"/>, uninitialized and pinned (for pointers into it).</summary>
    public static T[] GrowPinned<T>(ref T[]? slot, int length, int minimum)
        where T : unmanaged
    {
        T[]? array = slot;
        if (array is null || array.Length < length)
        {
            array = GC.AllocateUninitializedArray<T>(Capacity(array, length, minimum), pinned: true);
            slot = array;
        }

        return array;
    }

    // At least twice the old length: a need that grows by a little every token (attention over a growing context)
    // reallocates O(log n) times, not once per token.
    private static int Capacity<T>(T[]? old, int length, int minimum)
    {
        long doubled = Math.Min((long)(old?.Length ?? 0) * 2, Array.MaxLength);
        return (int)Math.Max(Math.Max(length, minimum), doubled);
    }
}
