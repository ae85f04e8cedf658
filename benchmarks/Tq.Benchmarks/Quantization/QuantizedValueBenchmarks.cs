using BenchmarkDotNet.Attributes;
using Tq.Core.Diagnostics;
using Tq.Core.Quantization;

namespace Tq.Benchmarks.Quantization;

/// <summary>
/// Attention output over N cached values of d = 128: Σ wᵣ·vᵣ from FP16 rows (baseline) versus accumulation from
/// packed codes in the rotated domain plus one inverse rotation. Per value row.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class QuantizedValueBenchmarks
{
    private const int Rows = 4096;
    private const int Dim = 128;

    private Half[] _fp16 = [];
    private float[] _weights = [];
    private float[] _output = [];
    private float[] _accumulator = [];
    private TurboQuantMseQuantizer _v2 = null!, _v4 = null!;
    private byte[] _codes2 = [], _codes4 = [];
    private Half[] _norms2 = [], _norms4 = [];

    [GlobalSetup]
    public void Setup()
    {
        float[] values = QuantizerEvaluator.Generate(EvaluationData.Gaussian, Rows, Dim, 1);
        _fp16 = Array.ConvertAll(values, v => (Half)v);
        _weights = QuantizerEvaluator.Generate(EvaluationData.Gaussian, 1, Rows, 2);
        _output = new float[Dim];
        _v2 = new TurboQuantMseQuantizer(Dim, 2);
        _v4 = new TurboQuantMseQuantizer(Dim, 4);
        (_codes2, _norms2) = Encode(_v2, values);
        (_codes4, _norms4) = Encode(_v4, values);
        _accumulator = new float[Math.Max(_v2.PreparedQueryLength, _v4.PreparedQueryLength)];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Rows)]
    public void Fp16WeightedSum()
    {
        Array.Clear(_output);
        ReadOnlySpan<Half> rows = _fp16;
        for (int r = 0; r < Rows; r++)
        {
            HalfKernels.Axpy(_weights[r], rows.Slice(r * Dim, Dim), _output);
        }
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public void Tq2BitAccumulate() => Run(_v2, _codes2, _norms2);

    [Benchmark(OperationsPerInvoke = Rows)]
    public void Tq4BitAccumulate() => Run(_v4, _codes4, _norms4);

    private void Run(TurboQuantMseQuantizer q, byte[] codes, Half[] norms)
    {
        Span<float> acc = _accumulator.AsSpan(0, q.PreparedQueryLength);
        acc.Clear();
        q.AccumulateValues(_weights, codes, norms, acc);
        q.FinishValues(acc, _output);
    }

    private static (byte[] Codes, Half[] Norms) Encode(TurboQuantMseQuantizer q, float[] values)
    {
        var codes = new byte[Rows * q.CodeBytesPerVector];
        var norms = new Half[Rows];
        q.Encode(values, codes, norms);
        return (codes, norms);
    }
}
