using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Core.Tests.Tensors;

public sealed unsafe class KernelScratchTests
{
    [Fact]
    public void Get_FromAnotherThread_IsTheSameMemory()
    {
        // The scratch belongs to its owner, not to the thread that happens to call: a session awaited on thread-pool
        // threads keeps one set of buffers.
        var scratch = new KernelScratch();
        nint first = (nint)scratch.Get(KernelScratch.Slot.Activations, 10_000);
        nint other = 0;
        var thread = new Thread(() => other = (nint)scratch.Get(KernelScratch.Slot.Activations, 10_000));
        thread.Start();
        thread.Join();

        Assert.Equal(first, other);
        Assert.Equal(0, first % 64);
        Assert.NotEqual(first, (nint)scratch.Get(KernelScratch.Slot.Tile, 10_000));
    }

    [Fact]
    public void Get_Larger_GrowsAndStaysAligned()
    {
        var scratch = new KernelScratch();
        byte* small = scratch.Get(KernelScratch.Slot.Row, 100);
        byte* large = scratch.Get(KernelScratch.Slot.Row, 1 << 20);
        new Span<byte>(large, 1 << 20).Fill(7);

        Assert.Equal(0, (nint)large % 64);
        Assert.True(large != small);
        Assert.True(scratch.Get(KernelScratch.Slot.Row, 100) == large);
    }

    [Fact]
    public void ForItem_IsTheWorkersOwnOnAPoolWorker_AndTheCallersElsewhere()
    {
        const int items = 4096;
        var caller = new KernelScratch();
        var onWorker = new bool[items];
        var isCaller = new bool[items];
        var scratches = new KernelScratch[items];
        using var pool = new WorkerPool(2);
        fixed (bool* w = onWorker)
        fixed (bool* c = isCaller)
        {
            var job = new ItemJob { Caller = caller, OnWorker = w, IsCaller = c, Scratches = scratches };
            pool.Run(ref job, items);
        }

        for (int i = 0; i < items; i++)
        {
            Assert.Equal(!onWorker[i], isCaller[i]);
        }

        Assert.Same(caller, KernelScratch.ForItem(caller));
        Assert.All(scratches.Where((_, i) => onWorker[i]), s => Assert.Same(scratches[Array.IndexOf(onWorker, true)], s));
    }

    private struct ItemJob : IParallelJob
    {
        public KernelScratch Caller;
        public bool* OnWorker;
        public bool* IsCaller;
        public KernelScratch[] Scratches;

        public readonly void Execute(int index)
        {
            KernelScratch s = KernelScratch.ForItem(Caller);
            OnWorker[index] = WorkerPool.OnWorkerThread;
            IsCaller[index] = ReferenceEquals(s, Caller);
            Scratches[index] = s;
        }
    }
}
