using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tq.Core.Cache;
using Tq.Core.Diagnostics;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Tensors;
using Tq.Core.Tokenization;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq compare -m model.gguf -f text.txt</c>: perplexity and KL divergence of every KV-cache setting against the F16
/// cache, computed as <c>llama-perplexity --kl-divergence</c> does (chunks of --ctx tokens, BOS first, the second half
/// of each chunk scored), with memory, compression and speed; <c>--attention</c> adds per-layer cosine similarity of
/// attention outputs against the F16 cache on the F16 run's activations.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var model = CliOptions.ModelFile();
        var file = CliOptions.TextFile();
        var ctx = CliOptions.Context("Tokens per chunk (the context).", 1024);
        var chunks = new Option<int>("--chunks") { Description = "Chunks to score (0: all).", DefaultValueFactory = _ => 40 };
        var threads = CliOptions.Threads("Threads (0: every core).");
        var grid = new Option<string>("--grid") { Description = "Settings: 'full' (F16, Q8_0 and the TurboQuant grid), 'fixes' (sinks, window, pre-RoPE, boundary one by one), 'boundary', 'prerope', 'norms', 'quick', 'accept' (F16, K4/V2, K4/V4), 'sparse', or 'one' (F16 and the --cache setting).", DefaultValueFactory = _ => "full" };
        var speed = new Option<int>("--decode") { Description = "Decode steps timed at the end of the first chunk (0: no speed figures).", DefaultValueFactory = _ => 32 };
        var attention = new Option<bool>("--attention") { Description = "Per-layer cosine similarity of attention outputs vs F16, on the F16 run's activations (the F16 output is passed on, so the perplexity columns are then F16's)." };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
        var cache = new CacheArguments();
        var command = CliOptions.Command("compare", "Perplexity, KL divergence vs F16, memory and speed of KV-cache settings.", [model, file, ctx, chunks, threads, grid, speed, attention, json, .. cache.Options]);

        command.SetAction(parse => CliErrors.Run(() =>
        {
            List<KvCacheOptions> settings = Settings(parse.GetValue(grid)!, cache.Read(parse));
            Run(parse.GetValue(model)!.FullName, parse.GetValue(file)!.FullName, parse.GetValue(ctx), parse.GetValue(chunks),
                parse.GetValue(threads), settings, parse.GetValue(speed), parse.GetValue(attention), parse.GetValue(json)?.FullName, Console.Out);
        }));
        return command;
    }

    internal static List<KvCacheOptions> Settings(string grid, KvCacheOptions one)
    {
        KvCacheOptions Tq(double k, double v, Action<KvCacheOptions>? change = null)
        {
            var o = KvCacheOptions.TurboQuant(k, v);
            change?.Invoke(o);
            return o;
        }

        var f16 = new KvCacheOptions();
        var q8 = new KvCacheOptions { Kind = KvCacheKind.Q8_0 };
        return grid switch
        {
            "one" => [f16, one],
            "quick" => [f16, q8, Tq(4, 2), Tq(4, 4)],
            "accept" => [f16, Tq(4, 2), Tq(4, 4)],
            "sparse" => [f16, Tq(4, 2), Tq(4, 2, o => o.SparseValueThreshold = 0.0001f), Tq(4, 2, o => o.SparseValueThreshold = 0.001f), Tq(4, 2, o => o.SparseValueThreshold = 0.01f)],
            "norms" => [f16, Tq(4, 2), Tq(4, 2, o => o.ValueNormCorrection = false), Tq(3.5, 2.5), Tq(3.5, 2.5, o => o.ValueNormCorrection = false), Tq(4, 4, o => o.ValueNormCorrection = false)],
            "fixes" =>
            [
                f16,
                Tq(4, 2, o => { o.SinkTokens = 0; o.RecentWindow = 0; }),
                Tq(4, 2, o => { o.SinkTokens = 4; o.RecentWindow = 0; }),
                Tq(4, 2, o => { o.SinkTokens = 0; o.RecentWindow = 1; }),
                Tq(4, 2, o => { o.SinkTokens = 4; o.RecentWindow = 1; }),
                Tq(4, 2, o => o.RecentWindow = 4),
                Tq(4, 2),
                Tq(4, 2, o => o.RecentWindow = 16),
                Tq(4, 2, o => o.RecentWindow = 32),
                Tq(4, 2, o => o.PreRopeKeys = true),
                Tq(4, 2, o => { o.SinkTokens = 0; o.RecentWindow = 0; o.PreRopeKeys = true; }),
                Tq(4, 2, o => o.BoundaryLayers = 1),
                Tq(4, 2, o => o.BoundaryLayers = 2),
                Tq(4, 2, o => { o.BoundaryLayers = 1; o.BoundaryBits = 4; }),
                Tq(2, 2),
                Tq(2, 2, o => o.BoundaryLayers = 1),
                Tq(2, 2, o => o.PreRopeKeys = true),
            ],
            "boundary" =>
            [
                f16, Tq(4, 2), Tq(4, 2, o => o.SinkTokens = 0), Tq(4, 2, o => o.BoundaryLayers = 1), Tq(4, 2, o => o.BoundaryLayers = 2),
                Tq(4, 2, o => { o.BoundaryLayers = 1; o.BoundaryBits = 4; }), Tq(4, 2, o => o.ValueNormCorrection = false),
                Tq(2, 2), Tq(2, 2, o => o.BoundaryLayers = 1), Tq(3, 2), Tq(3, 2, o => o.BoundaryLayers = 1),
            ],
            "prerope" => [f16, Tq(4, 2), Tq(4, 2, o => o.PreRopeKeys = true), Tq(2, 2), Tq(2, 2, o => o.PreRopeKeys = true)],
            "full" =>
            [
                f16, q8, Tq(4, 2), Tq(4, 4), Tq(3, 2), Tq(2, 2), Tq(3.5, 2.5), Tq(4, 3), Tq(8, 2),
                Tq(4, 2, o => o.KeyResidualQjl = true),
                Tq(4, 2, o => o.SparseValueThreshold = 0.001f),
                Tq(4, 2, o => o.SparseValueThreshold = 0.01f),
                Tq(4, 2, o => o.BoundaryLayers = 1),
                Tq(4, 2, o => { o.SinkTokens = 0; o.RecentWindow = 0; }),
            ],
            _ => throw new ArgumentException($"Unknown grid '{grid}'; use full, fixes, boundary, prerope, norms, quick, accept, sparse or one.", nameof(grid)),
        };
    }

    internal static void Run(string modelPath, string textPath, int ctx, int chunkLimit, int threads, List<KvCacheOptions> settings,
        int decodeSteps, bool attention, string? jsonPath, TextWriter output)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ctx, 16);
        ArgumentOutOfRangeException.ThrowIfNegative(chunkLimit);
        using Model model = Model.Load(modelPath, new ModelOptions { Threads = threads });
        ctx = Math.Min(ctx, model.TrainedContextLength > 0 ? model.TrainedContextLength : ctx);
        Tokenizer tokenizer = Tokenizer.FromGguf(model.File);
        int[] tokens = tokenizer.Encode(File.ReadAllText(textPath), addSpecial: true);
        int available = tokens.Length / ctx;
        int chunks = chunkLimit == 0 ? available : Math.Min(chunkLimit, available);
        if (chunks == 0)
        {
            throw new ArgumentException($"The text has {tokens.Length} tokens, fewer than one chunk of {ctx}.", nameof(textPath));
        }

        int vocab = model.VocabularySize, first = ctx / 2, scored = ctx - 1 - first;
        output.WriteLine($"{Path.GetFileName(modelPath)}: {tokens.Length} tokens, {chunks} chunks of {ctx}, {scored} scored per chunk, {model.Threads} threads");

        float[] reference = new float[(long)chunks * scored * vocab > int.MaxValue ? throw new ArgumentException("Too many chunks for the KL reference.") : chunks * scored * vocab];
        float[] logits = new float[ctx * vocab];
        var results = new List<CompareResult>();
        double[]? referenceNll = null;
        foreach (KvCacheOptions option in settings)
        {
            bool isReference = option.Kind == KvCacheKind.F16 && results.Count == 0;
            using var session = new Session(model, new SessionOptions { ContextLength = ctx, KvCache = option },
                layout => attention && !isReference ? new AttentionProbeKvCache(layout, KvCacheFactory.Create(layout, option)) : KvCacheFactory.Create(layout, option));
            double nll = 0, kld = 0;
            long agree = 0, count = 0;
            var nlls = new double[chunks];
            for (int c = 0; c < chunks; c++)
            {
                session.Reset();
                int[] chunk = tokens.AsSpan(c * ctx, ctx).ToArray();
                if (model.BosTokenId >= 0)
                {
                    chunk[0] = model.BosTokenId;
                }

                session.Evaluate(chunk, logits, CancellationToken.None);
                double chunkNll = 0;
                for (int i = first; i < ctx - 1; i++)
                {
                    Span<float> row = logits.AsSpan(i * vocab, vocab);
                    LogSoftmax(row);
                    chunkNll -= row[chunk[i + 1]];
                    Span<float> refRow = reference.AsSpan((((c * scored) + i - first) * vocab), vocab);
                    if (isReference)
                    {
                        row.CopyTo(refRow);
                    }
                    else
                    {
                        double k = 0;
                        for (int v = 0; v < vocab; v++)
                        {
                            k += Math.Exp(refRow[v]) * (refRow[v] - row[v]);
                        }

                        kld += k;
                        agree += TensorMath.ArgMax(row) == TensorMath.ArgMax(refRow) ? 1 : 0;
                    }

                    count++;
                }

                nll += chunkNll;
                nlls[c] = chunkNll / scored;
            }

            referenceNll ??= nlls;
            double encodeShare = 0;
            (double prefill, double decode) = decodeSteps > 0 ? Speed(session, tokens.AsSpan(0, ctx).ToArray(), decodeSteps, model.BosTokenId, out encodeShare) : (0, 0);
            KvCacheFootprint fp = KvCacheFactory.Footprint(session.Cache.Layout, option);
            var r = new CompareResult
            {
                Cache = CacheArguments.Label(option),
                Ppl = Math.Exp(nll / count),
                PplStderr = StdErr(nlls, Math.Exp(nll / count)),
                MeanKld = isReference ? 0 : kld / count,
                Top1 = isReference ? 1 : (double)agree / count,
                BytesPerToken = (double)session.KvCacheBytes / ctx,
                Compression = fp.CompressionRatio(ctx),
                PrefillTokensPerSecond = prefill,
                DecodeTokensPerSecond = decode,
                EncodeShareOfPrefill = encodeShare,
                AttentionCosine = (session.Cache as AttentionProbeKvCache)?.MeanCosine(),
            };
            results.Add(r);
            output.WriteLine(Row(r, results[0].Ppl));
        }

        output.WriteLine();
        output.WriteLine($"{"cache",-28} {"PPL",8} {"Δ vs F16",9} {"mean KLD",9} {"top-1",7} {"KV B/tok",9} {"ratio",6} {"prefill t/s",11} {"decode t/s",10} {"encode",7}");
        foreach (CompareResult r in results)
        {
            output.WriteLine(Row(r, results[0].Ppl));
            if (r.AttentionCosine is { } cos)
            {
                output.WriteLine($"{"",-28} attention cosine per layer: {string.Join(" ", cos.Select(x => x.ToString("F5", CultureInfo.InvariantCulture)))}");
            }
        }

        if (jsonPath is not null)
        {
            var report = new JsonObject
            {
                ["model"] = Path.GetFileName(modelPath),
                ["text"] = Path.GetFileName(textPath),
                ["ctx"] = ctx,
                ["chunks"] = chunks,
                ["threads"] = model.Threads,
                ["results"] = JsonSerializer.SerializeToNode(results, CompareJsonContext.Default.ListCompareResult),
            };
            File.WriteAllText(jsonPath, report.ToJsonString(CompareJsonContext.Default.Options));
        }
    }

    private static string Row(CompareResult r, double f16) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Cache,-28} {r.Ppl,8:F4} {((r.Ppl / f16) - 1) * 100,8:+0.00;-0.00}% {r.MeanKld,9:F5} {r.Top1 * 100,6:F2}% {r.BytesPerToken,9:F1} {r.Compression,6:F2} {r.PrefillTokensPerSecond,11:F0} {r.DecodeTokensPerSecond,10:F1} {r.EncodeShareOfPrefill * 100,6:F1}%");

    // Prefill of all but the last decode steps of the chunk in one call, then token-by-token decode at the end of the context.
    private static (double Prefill, double Decode) Speed(Session session, int[] chunk, int steps, int bos, out double encodeShare)
    {
        encodeShare = 0;
        steps = Math.Min(steps, chunk.Length - 1);
        if (bos >= 0)
        {
            chunk[0] = bos;
        }

        session.Reset();
        long encodeBefore = (session.Cache as CompressedKvCache)?.EncodeTicks ?? 0;
        var sw = Stopwatch.StartNew();
        session.Evaluate(chunk.AsSpan(0, chunk.Length - steps));
        double prefill = (chunk.Length - steps) / sw.Elapsed.TotalSeconds;
        if (session.Cache is CompressedKvCache compressed)
        {
            encodeShare = (double)(compressed.EncodeTicks - encodeBefore) / Stopwatch.Frequency / sw.Elapsed.TotalSeconds;
        }

        sw.Restart();
        for (int i = chunk.Length - steps; i < chunk.Length; i++)
        {
            session.Append(chunk[i]);
        }

        return (prefill, steps / sw.Elapsed.TotalSeconds);
    }

    private static double StdErr(double[] chunkNll, double ppl)
    {
        if (chunkNll.Length < 2)
        {
            return 0;
        }

        double mean = chunkNll.Average();
        double var = chunkNll.Sum(x => (x - mean) * (x - mean)) / (chunkNll.Length - 1);
        return ppl * Math.Sqrt(var / chunkNll.Length);
    }

    internal static void LogSoftmax(Span<float> row)
    {
        float max = float.NegativeInfinity;
        foreach (float x in row)
        {
            max = MathF.Max(max, x);
        }

        double sum = 0;
        foreach (float x in row)
        {
            sum += Math.Exp(x - max);
        }

        float log = max + (float)Math.Log(sum);
        for (int i = 0; i < row.Length; i++)
        {
            row[i] -= log;
        }
    }

    internal sealed class CompareResult
    {
        public required string Cache { get; init; }

        public double Ppl { get; init; }

        public double PplStderr { get; init; }

        public double MeanKld { get; init; }

        public double Top1 { get; init; }

        public double BytesPerToken { get; init; }

        public double Compression { get; init; }

        public double PrefillTokensPerSecond { get; init; }

        public double DecodeTokensPerSecond { get; init; }

        public double EncodeShareOfPrefill { get; init; }

        public double[]? AttentionCosine { get; init; }
    }
}
