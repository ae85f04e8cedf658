using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Benchmarks.Tensors;

/// <summary>
/// Prefill-shaped product of the tq-stories-5m model (FFN up: 768×256 weights × 128 tokens) on 2 threads, through
/// the tiled matrix-matrix path; the Throughput column gives GFLOP/s (2·rows·cols·tokens per call).
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public unsafe class PrefillBenchmarks
{
    internal const int Rows = 768, Cols = 256, Tokens = 128;

    private byte* _weights;
    private WeightMatrix _matrix;
    private float[] _x = null!;
    private float[] _y = null!;
    private WorkerPool _pool = null!;
    private readonly KernelScratch _scratch = new();

    [Params(GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K)]
    public GgmlType WeightType { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _weights = KernelBuffers.RandomWeights(WeightType, Rows, Cols, out long bytes);
        _matrix = new WeightMatrix(WeightType, Rows, Cols, _weights, bytes);
        _x = KernelBuffers.RandomFloats(Tokens * Cols);
        _y = new float[Tokens * Rows];
        _pool = new WorkerPool(2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        NativeMemory.AlignedFree(_weights);
    }

    [Benchmark]
    public void MatMul128() => MatMul.Multiply(_matrix, _x, _y, Tokens, _pool, _scratch);
}
