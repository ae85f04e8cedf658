using System.Runtime.InteropServices;
using Tq.Core.Tensors;

namespace Tq.Benchmarks.Tensors;

/// <summary>Native, 64-byte aligned buffers of random well-formed weights for kernel benchmarks.</summary>
internal static unsafe class KernelBuffers
{
    public static byte* RandomWeights(GgmlType type, int rows, int cols, out long bytes)
    {
        bytes = GgmlTypeInfo.RowSize(type, cols) * rows;
        byte* p = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        var random = new Random(42);
        new Span<byte>(p, (int)bytes).Clear();
        random.NextBytes(new Span<byte>(p, (int)bytes));
        int blockSize = GgmlTypeInfo.BlockSize(type);
        int typeSize = GgmlTypeInfo.TypeSize(type);
        long blocks = bytes / typeSize;
        // Random bytes are valid quants; only the FP16/float scales need sane values so no NaN flows through.
        for (long b = 0; b < blocks; b++)
        {
            byte* block = p + (b * typeSize);
            switch (type)
            {
                case GgmlType.F16:
                    *(Half*)block = (Half)(random.NextSingle() - 0.5f);
                    break;
                case GgmlType.F32:
                    *(float*)block = random.NextSingle() - 0.5f;
                    break;
                case GgmlType.Q4_0 or GgmlType.Q8_0 or GgmlType.Q5_0:
                    *(Half*)block = (Half)0.01f;
                    break;
                case GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K:
                    *(Half*)block = (Half)0.01f;
                    *(Half*)(block + 2) = (Half)0.01f;
                    break;
                case GgmlType.Q6_K:
                    *(Half*)(block + 208) = (Half)0.01f;
                    break;
                case GgmlType.Q3_K:
                    *(Half*)(block + 108) = (Half)0.01f;
                    break;
                case GgmlType.Q2_K:
                    *(Half*)(block + 80) = (Half)0.01f;
                    *(Half*)(block + 82) = (Half)0.01f;
                    break;
            }
        }

        _ = blockSize;
        return p;
    }

    public static float[] RandomFloats(int count)
    {
        var random = new Random(7);
        float[] x = new float[count];
        for (int i = 0; i < count; i++)
        {
            x[i] = random.NextSingle() - 0.5f;
        }

        return x;
    }
}
