using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tq.Core.Tensors;

/// <summary>
/// Per-thread pinned scratch memory for kernels, grown on demand and then reused, so a matrix product allocates
/// nothing in steady state. Each <see cref="Slot"/> is an independent buffer, so one thread can hold several at once.
/// </summary>
internal static unsafe class ThreadScratch
{
    /// <summary>The independent buffers of a thread.</summary>
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

    [ThreadStatic]
    private static byte[]?[]? t_buffers;

    /// <summary>At least <paramref name="bytes"/> bytes of slot <paramref name="slot"/>, 64-byte aligned, valid until the next call for that slot on this thread.</summary>
    public static byte* Get(Slot slot, long bytes)
    {
        byte[]?[] buffers = t_buffers ??= new byte[]?[(int)Slot.Count];
        byte[]? buffer = buffers[(int)slot];
        if (buffer is null || buffer.Length < bytes + 64)
        {
            buffer = GC.AllocateUninitializedArray<byte>((int)Math.Max(bytes + 64, 4096), pinned: true);
            buffers[(int)slot] = buffer;
        }

        byte* p = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (byte*)(((nuint)p + 63) & ~(nuint)63);
    }
}
