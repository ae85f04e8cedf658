namespace Tq.Core.Threading;

/// <summary>
/// Grow-on-demand scratch arrays. Where a slot lives says who owns the memory: a kernel run by the pool's workers
/// keeps one slot per worker (<c>[ThreadStatic]</c>, freed with the worker) and one in the instance it works for (a
/// cache, a session) for the calling thread, chosen with <see cref="WorkerPool.OnWorkerThread"/>; nothing stays
/// alive on a thread-pool thread after the instance is gone.
/// </summary>
internal static class Scratch
{
    /// <summary>The array in <paramref name="slot"/>, replaced by one of at least <paramref name="length"/> (and <paramref name="minimum"/>) elements when shorter.</summary>
    public static T[] Grow<T>(ref T[]? slot, int length, int minimum)
    {
        T[]? array = slot;
        if (array is null || array.Length < length)
        {
            array = new T[Math.Max(length, minimum)];
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
            array = GC.AllocateUninitializedArray<T>(Math.Max(length, minimum), pinned: true);
            slot = array;
        }

        return array;
    }
}
