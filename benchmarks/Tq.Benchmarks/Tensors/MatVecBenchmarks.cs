using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Benchmarks.Tensors;

/// <summary>
/// Decode-shaped products: a 4096×4096 weight matrix times one activation vector on a 2-thread pool. Weights are
/// 4-16x the size of the last-level cache, so the figure of merit is weight bytes streamed per second
/// (the Throughput column) against <see cref="MemoryBandwidthBenchmarks"/>.
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public unsafe class MatVecBenchmarks
{
    internal const int Size = 4096;

    private byte* _weights;
    private WeightMatrix _matrix;
    private float[] _x = null!;
    private float[] _y = null!;
    private WorkerPool _pool = null!;
    private readonly KernelScratch _scratch = new();

    [Params(GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K)]
    public GgmlType WeightType { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _weights = KernelBuffers.RandomWeights(WeightType, Size, Size, out long bytes);
        _matrix = new WeightMatrix(WeightType, Size, Size, _weights, bytes);
        _x = KernelBuffers.RandomFloats(Size);
        _y = new float[Size];
        _pool = new WorkerPool(2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        NativeMemory.AlignedFree(_weights);
    }

    [Benchmark]
    public void MatVec() => MatMul.Multiply(_matrix, _x, _y, 1, _pool, _scratch);
}
