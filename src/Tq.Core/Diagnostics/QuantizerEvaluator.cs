using System.Diagnostics;
using Tq.Core.Quantization;

namespace Tq.Core.Diagnostics;

/// <summary>
/// Measures a quantizer on synthetic data: NMSE = Σ‖x − x̂‖²/Σ‖x‖², SNR = −10·log₁₀ NMSE, mean cosine(x, x̂), and for
/// one Gaussian query per vector the inner-product relative error √(Σ(s − t)²/Σt²) and bias (least-squares slope of
/// the estimate s on the truth t, minus 1), scoring from codes exactly as attention would. Encode speed is one thread.
/// </summary>
internal static class QuantizerEvaluator
{
    /// <summary>Channels of the heavy-tailed data scaled ×10 (taken modulo d).</summary>
    private static readonly int[] s_outlierChannels = [3, 17, 50, 101];

    public static float[] Generate(EvaluationData kind, int vectors, int dimension, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var x = new float[checked(vectors * dimension)];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = kind == EvaluationData.Gaussian ? (float)random.NextGaussian() : StudentT4(ref random);
        }

        if (kind == EvaluationData.HeavyTailed)
        {
            for (int r = 0; r < vectors; r++)
            {
                foreach (int c in s_outlierChannels)
                {
                    x[(r * dimension) + (c % dimension)] *= 10;
                }
            }
        }

        return x;
    }

    public static QuantizerReport Evaluate(QuantizerVariant variant, double bits, int dimension, EvaluationData data, float[] vectors, float[] queries, ulong seed)
    {
        int count = vectors.Length / dimension;
        var decoded = new float[vectors.Length];
        var scores = new float[count];
        double bitsPerValue;
        double seconds;
        switch (variant)
        {
            case QuantizerVariant.Prod:
            {
                var q = new TurboQuantProdQuantizer(dimension, (int)bits, seed);
                var codes = new byte[count * q.CodeBytesPerVector];
                var norms = new Half[count];
                var residuals = new Half[count];
                seconds = TimeEncode(count, (start, n) => q.Encode(
                    vectors.AsSpan(start * dimension, n * dimension), codes.AsSpan(start * q.CodeBytesPerVector, n * q.CodeBytesPerVector),
                    norms.AsSpan(start, n), residuals.AsSpan(start, n)));
                q.Decode(codes, norms, residuals, decoded);
                var prepared = new float[q.PreparedQueryLength];
                for (int r = 0; r < count; r++)
                {
                    q.PrepareQuery(queries.AsSpan(r * dimension, dimension), prepared);
                    q.Score(prepared, codes.AsSpan(r * q.CodeBytesPerVector, q.CodeBytesPerVector), norms.AsSpan(r, 1), residuals.AsSpan(r, 1), scores.AsSpan(r, 1));
                }

                bitsPerValue = q.BitsPerValue;
                break;
            }

            default:
            {
                var q = new TurboQuantMseQuantizer(dimension, bits, seed, normCorrection: variant == QuantizerVariant.MseNormCorrected);
                var codes = new byte[count * q.CodeBytesPerVector];
                var norms = new Half[count];
                seconds = TimeEncode(count, (start, n) => q.Encode(
                    vectors.AsSpan(start * dimension, n * dimension), codes.AsSpan(start * q.CodeBytesPerVector, n * q.CodeBytesPerVector),
                    norms.AsSpan(start, n)));
                q.Decode(codes, norms, decoded);
                var prepared = new float[q.PreparedQueryLength];
                for (int r = 0; r < count; r++)
                {
                    q.PrepareQuery(queries.AsSpan(r * dimension, dimension), prepared);
                    q.Score(prepared, codes.AsSpan(r * q.CodeBytesPerVector, q.CodeBytesPerVector), norms.AsSpan(r, 1), scores.AsSpan(r, 1));
                }

                bitsPerValue = q.BitsPerValue;
                break;
            }
        }

        double error = 0, energy = 0, cosines = 0, ipError = 0, ipTruth = 0, ipCross = 0;
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> x = vectors.AsSpan(r * dimension, dimension);
            ReadOnlySpan<float> y = decoded.AsSpan(r * dimension, dimension);
            ReadOnlySpan<float> q = queries.AsSpan(r * dimension, dimension);
            double xy = 0, xx = 0, yy = 0, e = 0, t = 0;
            for (int i = 0; i < dimension; i++)
            {
                double diff = x[i] - y[i];
                e += diff * diff;
                xx += (double)x[i] * x[i];
                yy += (double)y[i] * y[i];
                xy += (double)x[i] * y[i];
                t += (double)q[i] * x[i];
            }

            error += e;
            energy += xx;
            cosines += xx > 0 && yy > 0 ? xy / Math.Sqrt(xx * yy) : 1;
            double s = scores[r];
            ipError += (s - t) * (s - t);
            ipTruth += t * t;
            ipCross += s * t;
        }

        double nmse = error / energy;
        return new QuantizerReport(
            Data: data == EvaluationData.Gaussian ? "gaussian" : "heavy-tailed",
            Dimension: dimension,
            Variant: variant switch { QuantizerVariant.MseNormCorrected => "mse-normcorr", QuantizerVariant.MseRawNorm => "mse-raw-norm", _ => "prod-qjl" },
            Bits: bits,
            Vectors: count,
            Nmse: nmse,
            SnrDb: -10 * Math.Log10(nmse),
            MeanCosine: cosines / count,
            InnerProductRelativeError: Math.Sqrt(ipError / ipTruth),
            InnerProductBias: (ipCross / ipTruth) - 1,
            BitsPerValue: bitsPerValue,
            CompressionVsFp16: 16 / bitsPerValue,
            ShannonBound: Math.Pow(4, -bits),
            TurboQuantBound: Math.Sqrt(3) * Math.PI / 2 * Math.Pow(4, -bits),
            EncodeVectorsPerSecond: count / seconds);
    }

    /// <summary>
    /// Best of three timed passes over all vectors in batches of 256, after warm-up calls and a pause that let the JIT
    /// finish tiering up (otherwise the first configuration measures unoptimized code).
    /// </summary>
    private static double TimeEncode(int count, Action<int, int> encode)
    {
        const int Batch = 256;
        int warm = Math.Min(count, Batch);
        for (int i = 0; i < 40; i++)
        {
            encode(0, warm);
        }

        Thread.Sleep(150);
        encode(0, warm);
        double best = double.MaxValue;
        for (int pass = 0; pass < 3; pass++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int r = 0; r < count; r += Batch)
            {
                encode(r, Math.Min(Batch, count - r));
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return best;
    }

    // t with ν = 4 degrees of freedom, divided by √2 for unit variance: z/√(χ²₄/4)/√2.
    private static float StudentT4(ref DeterministicRandom random)
    {
        double z = random.NextGaussian();
        double chi = 0;
        for (int k = 0; k < 4; k++)
        {
            double g = random.NextGaussian();
            chi += g * g;
        }

        return (float)(z / Math.Sqrt(chi / 4) / Math.Sqrt(2));
    }
}
