using System.Text.Json;
using Tq.Core.Diagnostics;
using Tq.Core.Quantization;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq benchmark</c>: quality (NMSE, SNR, cosine, inner-product error and bias), storage and encode speed of the
/// TurboQuant quantizers on synthetic Gaussian and heavy-tailed data, next to the Shannon and TurboQuant bounds.
/// </summary>
internal static class BenchmarkCommand
{
    public static Command Create()
    {
        var bits = new Option<string>("--bits") { Description = "Bit widths, comma separated (1 … 4, halves allowed).", DefaultValueFactory = _ => "2,2.5,3,3.5,4" };
        var dims = new Option<string>("--dim") { Description = "Head dimensions, comma separated.", DefaultValueFactory = _ => "128" };
        var vectors = new Option<int>("--vectors") { Description = "Vectors per data set.", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the data and of the rotations.", DefaultValueFactory = _ => 42 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var command = CliOptions.Command("benchmark", "Measure the TurboQuant quantizers on synthetic data (no model needed).", bits, dims, vectors, seed, json);
        command.SetAction(parse =>
        {
            try
            {
                double[] bitList = ParseList(parse.GetValue(bits)!, double.Parse);
                int[] dimList = ParseList(parse.GetValue(dims)!, int.Parse);
                int count = parse.GetValue(vectors);
                if (count < 1)
                {
                    throw new ArgumentException("--vectors must be at least 1.");
                }

                Run(bitList, dimList, count, parse.GetValue(seed), parse.GetValue(json), Console.Out, Console.Error);
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
            {
                Console.Error.WriteLine($"tq benchmark: {CliErrors.OneLine(ex.Message)}");
                return 2;
            }
        });
        return command;
    }

    internal static IReadOnlyList<QuantizerReport> Run(double[] bits, int[] dims, int vectors, ulong seed, bool json, TextWriter output, TextWriter progress)
    {
        // Validate every configuration before the long run starts.
        foreach (int d in dims)
        {
            foreach (double b in bits)
            {
                _ = new TurboQuantMseQuantizer(d, b, seed);
            }
        }

        var plan = new List<(int Dim, EvaluationData Data, QuantizerVariant Variant, double Bits)>();
        foreach (int d in dims)
        {
            foreach (EvaluationData data in new[] { EvaluationData.Gaussian, EvaluationData.HeavyTailed })
            {
                foreach (double b in bits)
                {
                    plan.Add((d, data, QuantizerVariant.MseNormCorrected, b));
                    plan.Add((d, data, QuantizerVariant.MseRawNorm, b));
                    if (b == Math.Floor(b) && b >= 2)
                    {
                        plan.Add((d, data, QuantizerVariant.Prod, b));
                    }
                }
            }
        }

        var results = new List<QuantizerReport>(plan.Count);
        bool showProgress = !ReferenceEquals(progress, Console.Error) || !Console.IsErrorRedirected;
        (int Dim, EvaluationData Data) cached = (-1, EvaluationData.Gaussian);
        float[] x = [], q = [];
        for (int i = 0; i < plan.Count; i++)
        {
            var (dim, data, variant, b) = plan[i];
            if (showProgress)
            {
                progress.Write($"\r[{i + 1}/{plan.Count}] d={dim} {data} {variant} {b} bits        ");
            }

            if (cached != (dim, data))
            {
                x = QuantizerEvaluator.Generate(data, vectors, dim, seed);
                q = QuantizerEvaluator.Generate(EvaluationData.Gaussian, vectors, dim, seed ^ 0x5155455259UL);
                cached = (dim, data);
            }

            results.Add(QuantizerEvaluator.Evaluate(variant, b, dim, data, x, q, seed));
        }

        if (showProgress)
        {
            progress.Write('\r' + new string(' ', 70) + '\r');
        }

        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(results, BenchmarkJsonContext.Default.ListQuantizerReport));
        }
        else
        {
            WriteTable(results, output);
        }

        return results;
    }

    private static void WriteTable(IReadOnlyList<QuantizerReport> results, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Format(c, "{0,-12} {1,4} {2,-13} {3,5} {4,9} {5,7} {6,8} {7,8} {8,8} {9,7} {10,6} {11,9} {12,9} {13,10}",
            "data", "dim", "variant", "bits", "NMSE", "SNR dB", "cosine", "IP err", "IP bias", "b/value", "x FP16", "Shannon", "TQ bound", "encode/s"));
        foreach (QuantizerReport r in results)
        {
            output.WriteLine(string.Format(c, "{0,-12} {1,4} {2,-13} {3,5} {4,9:F6} {5,7:F2} {6,8:F5} {7,8:F4} {8,8:+0.0000;-0.0000} {9,7:F3} {10,6:F2} {11,9:F6} {12,9:F6} {13,10:N0}",
                r.Data, r.Dimension, r.Variant, r.Bits, r.Nmse, r.SnrDb, r.MeanCosine, r.InnerProductRelativeError, r.InnerProductBias,
                r.BitsPerValue, r.CompressionVsFp16, r.ShannonBound, r.TurboQuantBound, r.EncodeVectorsPerSecond));
        }

        output.WriteLine();
        output.WriteLine("NMSE = Σ‖x − x̂‖²/Σ‖x‖²; IP err = √(Σ(ŝ − s)²/Σs²) and IP bias = slope(ŝ on s) − 1 against one N(0, I) query per vector,");
        output.WriteLine("scored from the packed codes; b/value includes the FP16 norm(s); bounds use the code bits; encode/s is one thread.");
        output.WriteLine("Default MSE variant: mse-normcorr from 3 bits, mse-raw-norm below (see docs/quantizer.md). prod-qjl is the unbiased key variant.");
    }

    private static T[] ParseList<T>(string text, Func<string, IFormatProvider, T> parse) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => parse(s, CultureInfo.InvariantCulture))];
}
