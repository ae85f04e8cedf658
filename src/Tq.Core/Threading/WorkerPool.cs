using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Tq.Core.Threading;

/// <summary>
/// A small set of dedicated threads that run the items of one parallel job at a time, with the calling thread taking
/// part. Built for low dispatch latency on tiny matrices (a few microseconds of work per call): no allocation per
/// call, workers claim items with one interlocked increment, and idle workers spin for <see cref="SpinDuration"/>
/// before they block, so back-to-back calls in a forward pass never pay a kernel wake-up.
/// </summary>
/// <remarks>
/// Calls to <see cref="Run{TJob}(ref TJob, int)"/> from different threads are serialised; a call from inside a job
/// (nested parallelism) runs inline on the calling worker. The first exception a work item throws stops the
/// remaining items and is rethrown to the caller once every worker has left the job.
/// </remarks>
internal sealed unsafe class WorkerPool : IDisposable
{
    [ThreadStatic]
    private static bool t_insideJob;

    [ThreadStatic]
    private static bool t_isWorker;

    private readonly Thread[] _workers;
    private readonly object _runLock = new();
    private readonly object _sleepLock = new();
    private readonly long _spinTicks;

    // _state packs generation (22 bits) | item count (21 bits) | next unclaimed index (21 bits). A worker claims an
    // item only through a compare-exchange on the whole word, so the count it checks and the generation it belongs to
    // are those of the job that is current at the moment of the claim; a claimed item keeps that job incomplete, so
    // _invoke and _job read after the claim belong to it too. The caller therefore waits only for claimed items,
    // never for idle or late workers.
    private const int IndexBits = 21;
    private const long IndexMask = (1L << IndexBits) - 1;
    private const int GenerationShift = 2 * IndexBits;
    private const long GenerationMask = (1L << (64 - GenerationShift - 1)) - 1;

    private delegate*<void*, int, void> _invoke;
    private void* _job;
    private int _done;
    private volatile bool _failed;

    private long _state;
    private int _sleepers;
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _error;

    /// <summary>Creates a pool that runs jobs on <paramref name="threadCount"/> threads, the caller included.</summary>
    /// <param name="threadCount">Total threads including the caller; ≤ 0 means <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="spinDuration">How long an idle worker spins before blocking; default 100 µs.</param>
    public WorkerPool(int threadCount = 0, TimeSpan? spinDuration = null)
    {
        ThreadCount = threadCount <= 0 ? Environment.ProcessorCount : threadCount;
        SpinDuration = spinDuration ?? TimeSpan.FromMicroseconds(100);
        if (SpinDuration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(spinDuration), "The spin duration cannot be negative.");
        }

        _spinTicks = (long)(SpinDuration.TotalSeconds * Stopwatch.Frequency);
        _workers = new Thread[ThreadCount - 1];

        // Workers start from the generation of construction, not from whatever they read once running: a Dispose that
        // runs before a new thread's first instruction would otherwise be taken as the generation already seen, and
        // the worker would wait for a next one forever while Dispose joins it.
        long startGeneration = Volatile.Read(ref _state) >> GenerationShift;
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(() => WorkerLoop(startGeneration))
            {
                IsBackground = true,
                Name = $"Tq worker {i + 1}",
            };
            _workers[i].Start();
        }
    }

    /// <summary>
    /// Whether the current thread is a dedicated worker of a pool. Scratch a worker keeps in a <c>[ThreadStatic]</c>
    /// belongs to that worker and is freed with it when its pool is disposed; any other thread (a caller, often a
    /// thread-pool thread that lives on) keeps its scratch in the object it works for (<see cref="Scratch"/>).
    /// </summary>
    public static bool OnWorkerThread => t_isWorker;

    /// <summary>Threads that run a job, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>How long an idle worker spins before blocking.</summary>
    public TimeSpan SpinDuration { get; }

    /// <summary>
    /// Runs <paramref name="job"/> for every index on <paramref name="pool"/>, or inline on the calling thread when there is no pool.
    /// </summary>
    public static void RunOrInline<TJob>(WorkerPool? pool, ref TJob job, int count)
        where TJob : struct, IParallelJob
    {
        if (pool is null)
        {
            for (int i = 0; i < count; i++)
            {
                job.Execute(i);
            }
        }
        else
        {
            pool.Run(ref job, count);
        }
    }

    /// <summary>
    /// Calls <c>job.Execute(i)</c> for every i in [0, <paramref name="count"/>) across the pool and the calling thread,
    /// and returns when all have run. Changes a job makes to its own fields are visible afterwards in <paramref name="job"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The pool was disposed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">More than 2,097,151 items (group work into larger items).</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run<TJob>(ref TJob job, int count)
        where TJob : struct, IParallelJob
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, (int)IndexMask);
        if (count <= 0)
        {
            return;
        }

        if (count == 1 || _workers.Length == 0 || t_insideJob)
        {
            for (int i = 0; i < count; i++)
            {
                job.Execute(i);
            }

            return;
        }

        lock (_runLock)
        {
            // The copy lives on this frame for the whole call, so its address is stable and its references stay reported.
            TJob local = job;
            _invoke = &Invoke<TJob>;
            _job = Unsafe.AsPointer(ref local);
            _done = 0;
            _failed = false;
            _error = null;
            long generation = NextGeneration();
            Interlocked.Exchange(ref _state, (generation << GenerationShift) | ((long)count << IndexBits));
            if (Volatile.Read(ref _sleepers) > 0)
            {
                lock (_sleepLock)
                {
                    Monitor.PulseAll(_sleepLock);
                }
            }

            t_insideJob = true;
            try
            {
                Work(generation);
            }
            finally
            {
                t_insideJob = false;
                SpinWait spin = default;
                while (Volatile.Read(ref _done) < count)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                }

                _job = null;
                job = local;
            }

            ExceptionDispatchInfo? error = _error;
            if (error is not null)
            {
                _error = null;
                error.Throw();
            }
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        lock (_runLock)
        {
            _disposed = true;
            Interlocked.Exchange(ref _state, NextGeneration() << GenerationShift);
            lock (_sleepLock)
            {
                Monitor.PulseAll(_sleepLock);
            }
        }

        foreach (Thread worker in _workers)
        {
            worker.Join();
        }
    }

    private static void Invoke<TJob>(void* job, int index)
        where TJob : struct, IParallelJob => Unsafe.AsRef<TJob>(job).Execute(index);

    private long NextGeneration() => ((Volatile.Read(ref _state) >> GenerationShift) + 1) & GenerationMask;

    private void Work(long generation)
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            int index = (int)(state & IndexMask);
            if (state >> GenerationShift != generation || index >= (int)((state >> IndexBits) & IndexMask))
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state)
            {
                continue;
            }

            if (!_failed)
            {
                try
                {
                    _invoke(_job, index);
                }
#pragma warning disable CA1031 // Any exception of a work item belongs to the caller of Run.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(ex), null);
                    _failed = true;
                }
            }

            Interlocked.Increment(ref _done);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WorkerLoop(long seen)
    {
        t_isWorker = true;
        t_insideJob = true;
        while (true)
        {
            long generation = WaitForGeneration(seen);
            if (_disposed)
            {
                return;
            }

            seen = generation;
            Work(generation);
        }
    }

    private long WaitForGeneration(long seen)
    {
        long start = Stopwatch.GetTimestamp();
        long generation;
        while ((generation = Volatile.Read(ref _state) >> GenerationShift) == seen)
        {
            if (Stopwatch.GetTimestamp() - start > _spinTicks)
            {
                lock (_sleepLock)
                {
                    Interlocked.Increment(ref _sleepers);
                    while ((generation = Volatile.Read(ref _state) >> GenerationShift) == seen)
                    {
                        Monitor.Wait(_sleepLock);
                    }

                    Interlocked.Decrement(ref _sleepers);
                }

                return generation;
            }

            Thread.SpinWait(20);
        }

        return generation;
    }
}
