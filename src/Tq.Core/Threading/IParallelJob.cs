namespace Tq.Core.Threading;

/// <summary>
/// A unit of parallel work for <see cref="WorkerPool.Run{TJob}(ref TJob, int)"/>: a struct holding the job's inputs
/// (typically pointers) whose <see cref="Execute"/> is called once for every index, from several threads at once.
/// </summary>
internal interface IParallelJob
{
    /// <summary>Runs work item <paramref name="index"/> (0 ≤ index &lt; the count given to Run).</summary>
    void Execute(int index);
}
