using BenchmarkDotNet.Attributes;
using Tq.Core.Diagnostics;
using Tq.Core.Quantization;

namespace Tq.Benchmarks.Quantization;

/// <summary>
/// Attention scores for N cached keys of d = 128 against one query: FP16 keys (baseline) versus TurboQuant packed keys
/// scored from the codes with a query rotated once. Times are per call; OperationsPerInvoke makes them per key.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class QuantizedScoreBenchmarks
{
    private const int Keys = 4096;
    private const int Dim = 128;
    private const int Group = 7; // query heads per KV head, e.g. Qwen2.5-7B (28/4)

    private Half[] _fp16 = [];
    private float[] _query = [];
    private float[] _scores = [];
    private float[] _buffer = [];
    private Packed _k4 = null!, _k3 = null!, _k2 = null!;
    private TurboQuantProdQuantizer _prod = null!;
    private byte[] _prodCodes = [];
    private Half[] _prodNorms = [], _prodResiduals = [];
    private float[] _prodQuery = [];
    private float[] _groupQueries = [];
    private float[] _groupPrepared = [];
    private float[] _groupScores = [];
    private TurboQuantMseQuantizer _groupQuantizer = null!;
    private byte[] _groupCodes = [];
    private Half[] _groupNorms = [];

    [GlobalSetup]
    public void Setup()
    {
        float[] keys = QuantizerEvaluator.Generate(EvaluationData.HeavyTailed, Keys, Dim, 1);
        _query = QuantizerEvaluator.Generate(EvaluationData.Gaussian, 1, Dim, 2);
        _fp16 = Array.ConvertAll(keys, v => (Half)v);
        _scores = new float[Keys];
        _buffer = new float[Dim];
        _k4 = new Packed(4, keys, _query);
        _k3 = new Packed(3, keys, _query);
        _k2 = new Packed(2, keys, _query);
        _prod = new TurboQuantProdQuantizer(Dim, 3);
        _prodCodes = new byte[Keys * _prod.CodeBytesPerVector];
        _prodNorms = new Half[Keys];
        _prodResiduals = new Half[Keys];
        _prod.Encode(keys, _prodCodes, _prodNorms, _prodResiduals);
        _prodQuery = new float[_prod.PreparedQueryLength];
        _prod.PrepareQuery(_query, _prodQuery);

        _groupQueries = QuantizerEvaluator.Generate(EvaluationData.Gaussian, Group, Dim, 3);
        _groupScores = new float[Group * Keys];
        _groupQuantizer = new TurboQuantMseQuantizer(Dim, 4);
        _groupCodes = new byte[Keys * _groupQuantizer.CodeBytesPerVector];
        _groupNorms = new Half[Keys];
        _groupQuantizer.Encode(keys, _groupCodes, _groupNorms);
        _groupPrepared = new float[Group * _groupQuantizer.PreparedQueryLength];
        for (int g = 0; g < Group; g++)
        {
            _groupQuantizer.PrepareQuery(_groupQueries.AsSpan(g * Dim, Dim), _groupPrepared.AsSpan(g * _groupQuantizer.PreparedQueryLength, _groupQuantizer.PreparedQueryLength));
        }

        // The baseline must compute the right thing.
        for (int r = 0; r < 64; r++)
        {
            double expected = 0;
            for (int i = 0; i < Dim; i++)
            {
                expected += (double)(float)_fp16[(r * Dim) + i] * _query[i];
            }

            float actual = HalfKernels.Dot(_fp16.AsSpan(r * Dim, Dim), _query);
            if (Math.Abs(actual - expected) > 1e-3 * (1 + Math.Abs(expected)))
            {
                throw new InvalidOperationException($"FP16 dot baseline is wrong on row {r}: {actual} vs {expected}.");
            }
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Keys)]
    public void Fp16Dot()
    {
        ReadOnlySpan<Half> keys = _fp16;
        for (int r = 0; r < Keys; r++)
        {
            _scores[r] = HalfKernels.Dot(keys.Slice(r * Dim, Dim), _query);
        }
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public void Fp16ConvertThenDot()
    {
        ReadOnlySpan<Half> keys = _fp16;
        for (int r = 0; r < Keys; r++)
        {
            _scores[r] = HalfKernels.ConvertThenDot(keys.Slice(r * Dim, Dim), _query, _buffer);
        }
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public void Tq4BitScore() => _k4.Score(_scores);

    [Benchmark(OperationsPerInvoke = Keys)]
    public void Tq3BitScore() => _k3.Score(_scores);

    [Benchmark(OperationsPerInvoke = Keys)]
    public void Tq2BitScore() => _k2.Score(_scores);

    [Benchmark(OperationsPerInvoke = Keys)]
    public void TqProd3BitScore() => _prod.Score(_prodQuery, _prodCodes, _prodNorms, _prodResiduals, _scores);

    /// <summary>GQA: 7 query heads against the same FP16 keys, each key converted once. Per (key, query) pair.</summary>
    [Benchmark(OperationsPerInvoke = Keys * Group)]
    public void Fp16DotGroup7()
    {
        ReadOnlySpan<Half> keys = _fp16;
        for (int r = 0; r < Keys; r++)
        {
            HalfKernels.DotGroup128(keys.Slice(r * Dim, Dim), _groupQueries, Group, _groupScores, Keys, r);
        }
    }

    /// <summary>GQA: 7 prepared queries against the same 4-bit keys, each key unpacked once. Per (key, query) pair.</summary>
    [Benchmark(OperationsPerInvoke = Keys * Group)]
    public void Tq4BitScoreGroup7() => _groupQuantizer.ScoreGroup(_groupPrepared, _groupCodes, _groupNorms, _groupScores);

    private sealed class Packed
    {
        private readonly TurboQuantMseQuantizer _quantizer;
        private readonly byte[] _codes;
        private readonly Half[] _norms;
        private readonly float[] _prepared;

        public Packed(int bits, float[] keys, float[] query)
        {
            _quantizer = new TurboQuantMseQuantizer(Dim, bits);
            _codes = new byte[Keys * _quantizer.CodeBytesPerVector];
            _norms = new Half[Keys];
            _quantizer.Encode(keys, _codes, _norms);
            _prepared = new float[_quantizer.PreparedQueryLength];
            _quantizer.PrepareQuery(query, _prepared);
        }

        public void Score(float[] scores) => _quantizer.Score(_prepared, _codes, _norms, scores);
    }
}
