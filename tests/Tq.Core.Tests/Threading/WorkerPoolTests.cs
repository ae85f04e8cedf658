using Tq.Core.Threading;

namespace Tq.Core.Tests.Threading;

public sealed unsafe class WorkerPoolTests
{
    private struct CountJob : IParallelJob
    {
        public int* Hits;
        public int ThrowAt;

        public readonly void Execute(int index)
        {
            if (index == ThrowAt)
            {
                throw new InvalidOperationException($"item {index} failed");
            }

            Interlocked.Increment(ref Hits[index]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Run_ManyCalls_ExecutesEveryIndexExactlyOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        Assert.Equal(threads, pool.ThreadCount);
        foreach (int count in new[] { 0, 1, 2, 3, 7, 64, 1000 })
        {
            for (int repeat = 0; repeat < 20; repeat++)
            {
                int[] hits = new int[Math.Max(1, count)];
                fixed (int* h = hits)
                {
                    var job = new CountJob { Hits = h, ThrowAt = -1 };
                    pool.Run(ref job, count);
                }

                Assert.All(hits.Take(count), v => Assert.Equal(1, v));
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Run_ItemThrows_ExceptionReachesCallerAndPoolStaysUsable(int threads)
    {
        using var pool = new WorkerPool(threads);
        int[] hits = new int[100];
        fixed (int* h = hits)
        {
            var failing = new CountJob { Hits = h, ThrowAt = 37 };
            var ex = Assert.Throws<InvalidOperationException>(() => pool.Run(ref failing, 100));
            Assert.Equal("item 37 failed", ex.Message);

            Array.Clear(hits);
            var ok = new CountJob { Hits = h, ThrowAt = -1 };
            pool.Run(ref ok, 100);
        }

        Assert.All(hits, v => Assert.Equal(1, v));
    }

    [Fact]
    public void Run_AfterWorkersFellAsleep_StillCompletes()
    {
        using var pool = new WorkerPool(2, TimeSpan.Zero);
        int[] hits = new int[50];
        for (int repeat = 0; repeat < 5; repeat++)
        {
            Thread.Sleep(5);
            Array.Clear(hits);
            fixed (int* h = hits)
            {
                var job = new CountJob { Hits = h, ThrowAt = -1 };
                pool.Run(ref job, 50);
            }

            Assert.All(hits, v => Assert.Equal(1, v));
        }
    }

    [Fact]
    public void Run_FromSeveralThreadsAtOnce_IsSerialisedAndCorrect()
    {
        using var pool = new WorkerPool(2);
        Parallel.For(0, 8, _ =>
        {
            int[] hits = new int[200];
            for (int repeat = 0; repeat < 10; repeat++)
            {
                Array.Clear(hits);
                fixed (int* h = hits)
                {
                    var job = new CountJob { Hits = h, ThrowAt = -1 };
                    pool.Run(ref job, 200);
                }

                Assert.All(hits, v => Assert.Equal(1, v));
            }
        });
    }

    [Fact]
    public void Run_ManyShortJobsBackToBack_NoItemLostOrRepeated()
    {
        // Short jobs in a tight loop are where a late worker could take an item of the next job.
        using var pool = new WorkerPool(3);
        int[] hits = new int[5];
        fixed (int* h = hits)
        {
            var job = new CountJob { Hits = h, ThrowAt = -1 };
            for (int repeat = 0; repeat < 20000; repeat++)
            {
                pool.Run(ref job, 1 + (repeat % 5));
            }
        }

        // Item i runs in every job with more than i items: 20000 jobs cycle through counts 1..5.
        Assert.Equal([20000, 16000, 12000, 8000, 4000], hits);
    }

    [Fact]
    public void Run_TooManyItems_Throws()
    {
        using var pool = new WorkerPool(2);
        var job = new CountJob { ThrowAt = -1 };
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Run(ref job, int.MaxValue));
    }

    [Fact]
    public void Dispose_RightAfterConstruction_ReturnsEveryTime()
    {
        // Regression: a Dispose before a worker's first instruction used to leave that worker waiting forever in Join.
        var disposeAll = new Thread(() =>
        {
            for (int i = 0; i < 500; i++)
            {
                new WorkerPool(3).Dispose();
            }
        })
        { IsBackground = true };
        disposeAll.Start();

        Assert.True(disposeAll.Join(TimeSpan.FromSeconds(60)), "Dispose hung: a worker missed the dispose generation");
    }

    [Fact]
    public void Run_AfterDispose_Throws()
    {
        var pool = new WorkerPool(2);
        pool.Dispose();
        var job = new CountJob { ThrowAt = -1 };
        Assert.Throws<ObjectDisposedException>(() => pool.Run(ref job, 1));
    }
}
