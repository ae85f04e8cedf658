using Tq.Core.Threading;

namespace Tq.Core.Tensors;

/// <summary>
/// Pinned scratch memory of the matrix products, grown on demand and then reused, so a product allocates nothing in
/// steady state. Ownership follows <see cref="Scratch"/>'s rule: the caller of <see cref="MatMul"/> passes its own (the
/// forward scratch of a session or of the scheduler) for the activations it prepares and for the job items its thread
/// runs, and each dedicated worker of a pool keeps one of its own, freed with the worker. Nothing stays alive on a
/// thread-pool thread once its owner is gone.
/// </summary>
internal sealed unsafe class KernelScratch
{
    [ThreadStatic]
    private static KernelScratch? t_worker;

    private readonly byte[]?[] _buffers = new byte[]?[(int)Slot.Count];

    /// <summary>The independent buffers of one scratch.</summary>
    public enum Slot
    {
        /// <summary>Quantized activations of the caller.</summary>
        Activations,

        /// <summary>Float activations (rounded or dequantized) of the caller.</summary>
        ActivationFloats,

        /// <summary>A transposed tile of dequantized weights (matrix-matrix path).</summary>
        Tile,

        /// <summary>One dequantized weight row.</summary>
        Row,

        /// <summary>Count of slots.</summary>
        Count,
    }

    /// <summary>The scratch for a job item on this thread: the worker's own on a pool's worker, else <paramref name="caller"/>.</summary>
    public static KernelScratch ForItem(KernelScratch caller) => WorkerPool.OnWorkerThread ? t_worker ??= new KernelScratch() : caller;

    /// <summary>At least <paramref name="bytes"/> bytes of slot <paramref name="slot"/>, 64-byte aligned, valid until the next call for that slot.</summary>
    public byte* Get(Slot slot, long bytes)
    {
        byte[] buffer = Scratch.GrowPinned(ref _buffers[(int)slot], checked((int)(bytes + 64)), 4096);
        byte* p = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (byte*)(((nuint)p + 63) & ~(nuint)63);
    }
}
