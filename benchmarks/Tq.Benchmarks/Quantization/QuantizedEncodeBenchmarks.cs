using BenchmarkDotNet.Attributes;
using Tq.Core.Diagnostics;
using Tq.Core.Quantization;

namespace Tq.Benchmarks.Quantization;

/// <summary>
/// Encoding 128-d vectors (norm, rotation, codebook search, packing) per vector, one thread; the baseline is what an
/// FP16 cache does per vector (convert to Half). 1 µs per vector = 1 million vectors/s.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class QuantizedEncodeBenchmarks
{
    private const int Vectors = 1024;
    private const int Dim = 128;

    private float[] _data = [];
    private Half[] _fp16 = [];
    private TurboQuantMseQuantizer _q4 = null!, _q2 = null!, _q80 = null!;
    private TurboQuantProdQuantizer _prod = null!;
    private byte[] _codes = [];
    private Half[] _norms = [], _residuals = [];
    private float[] _data80 = [];

    [GlobalSetup]
    public void Setup()
    {
        _data = QuantizerEvaluator.Generate(EvaluationData.HeavyTailed, Vectors, Dim, 1);
        _data80 = QuantizerEvaluator.Generate(EvaluationData.HeavyTailed, Vectors, 80, 1);
        _fp16 = new Half[_data.Length];
        _q4 = new TurboQuantMseQuantizer(Dim, 4);
        _q2 = new TurboQuantMseQuantizer(Dim, 2);
        _q80 = new TurboQuantMseQuantizer(80, 4);
        _prod = new TurboQuantProdQuantizer(Dim, 4);
        _codes = new byte[Vectors * Dim];
        _norms = new Half[Vectors];
        _residuals = new Half[Vectors];
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Vectors)]
    public void Fp16Convert() => System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(_data, _fp16);

    [Benchmark(OperationsPerInvoke = Vectors)]
    public void Tq4BitEncode() => _q4.Encode(_data, _codes.AsSpan(0, Vectors * _q4.CodeBytesPerVector), _norms);

    [Benchmark(OperationsPerInvoke = Vectors)]
    public void Tq2BitEncode() => _q2.Encode(_data, _codes.AsSpan(0, Vectors * _q2.CodeBytesPerVector), _norms);

    [Benchmark(OperationsPerInvoke = Vectors)]
    public void TqProd4BitEncode() => _prod.Encode(_data, _codes.AsSpan(0, Vectors * _prod.CodeBytesPerVector), _norms, _residuals);

    [Benchmark(OperationsPerInvoke = Vectors)]
    public void Tq4BitEncodeDim80Haar() => _q80.Encode(_data80, _codes.AsSpan(0, Vectors * _q80.CodeBytesPerVector), _norms);
}
