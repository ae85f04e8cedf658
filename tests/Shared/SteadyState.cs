namespace Tq.Testing;

/// <summary>Allocation checks of hot paths in their steady state.</summary>
public static class SteadyState
{
    /// <summary>
    /// Bytes <paramref name="step"/> allocates on the calling thread over <paramref name="window"/> calls, in the
    /// quietest of up to <paramref name="attempts"/> windows (stopping at the first that allocates nothing).
    /// </summary>
    /// <remarks>
    /// Steady state means the JIT's optimized code. Tiered compilation first runs methods at tier 0, which can box or
    /// allocate where the optimized code does not, and it delays the optimized code while other code keeps being
    /// compiled (as when the whole test suite runs in parallel). A real allocation per call shows in every window; a
    /// tier-0 one goes once the optimized code is in, so the least over a few windows, 100 ms apart, is what counts.
    /// </remarks>
    public static long AllocatedBytes(Action step, int window = 8, int attempts = 5)
    {
        ArgumentNullException.ThrowIfNull(step);
        long least = long.MaxValue;
        for (int attempt = 0; attempt < attempts && least > 0; attempt++)
        {
            if (attempt > 0)
            {
                Thread.Sleep(100);
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < window; i++)
            {
                step();
            }

            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
