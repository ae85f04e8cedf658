using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tq.Core.Cache;
using Tq.Core.Gguf;
using Tq.Core.Inference;
using Tq.Core.Models;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq bench -m model.gguf -p 128,512 -n 64 -d 0,4096 -np 1,4 --cache f16,tq</c>: llama-bench's tests (and <c>-np</c>: several sequences decoding at once). <c>ppN</c> evaluates N
/// tokens as one prompt; <c>tgN</c> decodes N tokens one at a time; <c>@ dD</c> runs either after D tokens already in the
/// cache (filled once, untimed; each repetition truncates back to D). Every list is a comma list and every combination
/// runs. Each test warms up (at least 2 s, so the JIT reaches optimized code), then <c>-r</c> times; the figures are
/// mean ± sample standard deviation of tokens/s, as llama-bench reports. Decode rows also give the weight and KV bytes
/// read per token and the GB/s they make, next to the machine's read bandwidth measured at start.
/// </summary>
internal static class BenchCommand
{
    private static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        var model = CliOptions.ModelFile();
        var prompt = new Option<string>("--n-prompt", "-p") { Description = "Prompt tokens of the pp tests, a comma list (0: skip).", DefaultValueFactory = _ => "128" };
        var gen = new Option<string>("--n-gen", "-n") { Description = "Generated tokens of the tg tests, a comma list (0: skip).", DefaultValueFactory = _ => "64" };
        var depth = new Option<string>("--n-depth", "-d") { Description = "Tokens already in the cache before each test, a comma list.", DefaultValueFactory = _ => "0" };
        var parallel = new Option<string>("--parallel", "-np") { Description = "Sequences decoding at once in the tg tests (continuous batching on the scheduler; t/s is their sum), a comma list.", DefaultValueFactory = _ => "1" };
        var reps = new Option<int>("--repetitions", "-r") { Description = "Repetitions of each test.", DefaultValueFactory = _ => 5 };
        var threads = CliOptions.Threads();
        var json = new Option<bool>("--json") { Description = "Print JSON (llama-bench field names) instead of a table." };
        var cache = new CacheArguments("f16");
        var command = CliOptions.Command("bench", "Prefill (ppN) and decode (tgN) speed at chosen depths, as llama-bench measures them.", [model, prompt, gen, depth, parallel, reps, threads, json, .. cache.Options]);

        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(() => Task.FromResult(Run(
            parse.GetValue(model)!.FullName, ParseList(parse.GetValue(prompt)!, "-p"), ParseList(parse.GetValue(gen)!, "-n"),
            ParseList(parse.GetValue(depth)!, "-d"), ParseList(parse.GetValue(parallel)!, "-np"), parse.GetValue(reps), parse.GetValue(threads), parse.GetValue(json),
            cache.ReadAll(parse), cancellationToken))));
        return command;
    }

    private sealed record Result(string Test, KvCacheOptions Cache, int Depth, double[] Samples, double Cpu, long WeightBytesPerToken, long KvBytesPerToken);

    private static int Run(string modelPath, int[] prompts, int[] gens, int[] depths, int[] parallels, int repetitions, int threads, bool json, IReadOnlyList<KvCacheOptions> caches, CancellationToken cancellationToken)
    {
        if (repetitions <= 0)
        {
            throw new ArgumentException($"--repetitions (-r) must be at least 1; got {repetitions}.");
        }

        using Model model = Model.Load(modelPath, new ModelOptions { Threads = threads });
        int longest = Math.Max(prompts.Max(), gens.Max());
        int context = depths.Max() + longest + 1;
        if (context > model.TrainedContextLength && model.TrainedContextLength > 0)
        {
            throw new ArgumentException($"Depth {depths.Max()} plus {longest} tokens exceeds the model's context of {model.TrainedContextLength}.");
        }

        double bandwidth = MemoryBandwidth.Measure(model.Threads);
        long weightBytes = DecodeWeightBytes(model);
        var random = new Random(1234);
        if (parallels.Any(p => p <= 0))
        {
            throw new ArgumentException("--parallel (-np) takes sequence counts of at least 1.");
        }

        var results = new List<Result>();
        foreach (KvCacheOptions cache in caches)
        {
            var options = new SessionOptions { ContextLength = context, BatchSize = Math.Clamp(prompts.Max(), 64, 512), KvCache = cache };
            using Session session = model.CreateSession(options);
            Session[] others = [.. Enumerable.Range(1, parallels.Max() - 1).Select(_ => model.CreateSession(options))];
            using var disposeOthers = new CompositeDisposable(others);
            foreach (int d in depths)
            {
                FillTo(session, d, model, random, cancellationToken);
                foreach (Session other in others)
                {
                    FillTo(other, d, model, random, cancellationToken);
                }

                string at = d > 0 ? string.Create(CultureInfo.InvariantCulture, $" @ d{d}") : string.Empty;
                foreach (int p in prompts.Where(p => p > 0))
                {
                    int[] tokens = new int[p];
                    (double[] samples, double cpu) = Measure(p, repetitions, () =>
                    {
                        for (int i = 0; i < tokens.Length; i++)
                        {
                            tokens[i] = random.Next(model.VocabularySize);
                        }

                        session.Truncate(d);
                        long start = Stopwatch.GetTimestamp();
                        session.Evaluate(tokens, cancellationToken);
                        return p / Stopwatch.GetElapsedTime(start).TotalSeconds;
                    });
                    results.Add(new Result($"pp{p}{at}", cache, d, samples, cpu, 0, 0));
                }

                foreach (int n in gens.Where(n => n > 0))
                {
                    foreach (int np in parallels.Where(np => np > 1))
                    {
                        // np sequences decode n tokens each through the scheduler, which batches their steps.
                        Session[] group = [session, .. others[..(np - 1)]];
                        long passes = model.Scheduler.Steps, batched = model.Scheduler.Tokens;
                        (double[] parallelSamples, double parallelCpu) = Measure(n * np, repetitions, () =>
                        {
                            foreach (Session s in group)
                            {
                                s.Truncate(d);
                            }

                            long start = Stopwatch.GetTimestamp();
                            Task.WhenAll(group.Select((s, i) => DecodeAsync(s, n, new Random(i), model, cancellationToken))).GetAwaiter().GetResult();
                            return n * np / Stopwatch.GetElapsedTime(start).TotalSeconds;
                        });
                        results.Add(new Result(string.Create(CultureInfo.InvariantCulture, $"tg{n}{at} ×{np}"), cache, d, parallelSamples, parallelCpu, 0, 0));
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"tq: tg{n}{at} ×{np}: {(double)(model.Scheduler.Tokens - batched) / Math.Max(1, model.Scheduler.Steps - passes):F2} sequences per forward pass on average"));
                    }

                    if (!parallels.Contains(1))
                    {
                        continue;
                    }

                    if (model.Profile.Enabled)
                    {
                        model.Profile.Reset();
                    }

                    (double[] samples, double cpu) = Measure(n, repetitions, () =>
                    {
                        session.Truncate(d);
                        int token = Math.Max(model.BosTokenId, 0);
                        long start = Stopwatch.GetTimestamp();
                        for (int i = 0; i < n; i++)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            session.Append(token);
                            token = random.Next(model.VocabularySize);
                        }

                        return n / Stopwatch.GetElapsedTime(start).TotalSeconds;
                    });

                    // Attention reads every cached row once per token: on average the depth plus half the generated tokens.
                    long kvRead = session.KvCacheBytesPerToken * (d + (n / 2));
                    results.Add(new Result($"tg{n}{at}", cache, d, samples, cpu, weightBytes, kvRead));
                    if (model.Profile.Enabled)
                    {
                        Console.Error.WriteLine($"tq: stages of tg{n}{at} ({CacheArguments.Label(cache)}):");
                        Console.Error.WriteLine(model.Profile.Report());
                    }
                }
            }

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tq: KV cache {CacheArguments.Label(cache)}: {session.KvCacheBytes} B for {context} tokens ({session.KvCacheBytesPerToken} B/token past the FP16 sinks)"));
        }

        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        if (json)
        {
            Console.Out.WriteLine(new JsonArray([.. results.Select(r => (JsonNode?)new JsonObject
            {
                ["model"] = Path.GetFileName(modelPath),
                ["test"] = r.Test,
                ["n_depth"] = r.Depth,
                ["avg_ts"] = r.Samples.Average(),
                ["stddev_ts"] = StdDev(r.Samples),
                ["samples_ts"] = new JsonArray([.. r.Samples.Select(x => (JsonNode?)x)]),
                ["cpu_ts"] = r.Cpu,
                ["threads"] = model.Threads,
                ["type_k"] = TypeName(r.Cache, r.Cache.BitsK),
                ["type_v"] = TypeName(r.Cache, r.Cache.BitsV),
                ["weight_bytes_per_token"] = r.WeightBytesPerToken,
                ["kv_bytes_per_token"] = r.KvBytesPerToken,
                ["read_gbps"] = ReadRate(r),
                ["machine_read_gbps"] = bandwidth,
                ["peak_working_set_bytes"] = peak,
                ["model_bytes"] = model.FileSize,
            })]).ToJsonString());
        }
        else
        {
            Console.Out.WriteLine("| model | size | threads | cache | test | t/s | t/s of CPU time | read GB/s (of machine) |");
            Console.Out.WriteLine("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
            foreach (Result r in results)
            {
                string rate = r.WeightBytesPerToken > 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{ReadRate(r):F1} ({100 * ReadRate(r) / bandwidth:F0}%)")
                    : string.Empty;
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Path.GetFileName(modelPath)} | {model.FileSize / 1048576.0:F2} MiB | {model.Threads} | {CacheArguments.Label(r.Cache)} | {r.Test} | {r.Samples.Average():F2} ± {StdDev(r.Samples):F2} | {r.Cpu:F2} | {rate} |"));
            }

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tq: machine read bandwidth {bandwidth:F1} GB/s ({model.Threads} threads); decode reads {weightBytes / 1e6:F1} MB of weights per token plus the KV rows"));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tq: peak working set {peak / 1048576.0:F1} MiB (model file {model.FileSize / 1048576.0:F1} MiB)"));
        }

        return 0;
    }

    private static double ReadRate(Result r) => (r.WeightBytesPerToken + r.KvBytesPerToken) * r.Samples.Average() / 1e9;

    /// <summary>Bytes of weights one decode step reads: every tensor but the token embedding, which only the output head reads when tied.</summary>
    private static long DecodeWeightBytes(Model model)
    {
        long total = model.File.Tensors.Sum(t => t.ByteSize);
        bool tied = !model.File.TryGetTensor("output.weight", out _);
        return !tied && model.File.TryGetTensor("token_embd.weight", out GgufTensorInfo? embedding) ? total - embedding.ByteSize : total;
    }

    private static async Task DecodeAsync(Session session, int n, Random random, Model model, CancellationToken cancellationToken)
    {
        int token = Math.Max(model.BosTokenId, 0);
        for (int i = 0; i < n; i++)
        {
            await session.AppendAsync(token, cancellationToken).ConfigureAwait(false);
            token = random.Next(model.VocabularySize);
        }
    }

    private sealed class CompositeDisposable(IEnumerable<IDisposable> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable item in items)
            {
                item.Dispose();
            }
        }
    }

    private static void FillTo(Session session, int depth, Model model, Random random, CancellationToken cancellationToken)
    {
        session.Reset();
        if (depth == 0)
        {
            return;
        }

        int[] tokens = new int[depth];
        for (int i = 0; i < depth; i++)
        {
            tokens[i] = random.Next(model.VocabularySize);
        }

        session.Evaluate(tokens, cancellationToken);
    }

    private static int[] ParseList(string text, string option)
    {
        var values = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                throw new ArgumentException($"{option} takes a comma list of non-negative whole numbers; '{part}' is not one.");
            }

            values.Add(value);
        }

        return values.ToArray();
    }

    // Each sample also in tokens per second of process CPU time: on a machine shared with other work, single-thread
    // CPU-time throughput approximates the uncontended speed (wall-clock figures include time spent descheduled).
    private static (double[] Samples, double Cpu) Measure(int tokens, int repetitions, Func<double> run)
    {
        // llama-bench warms up with one run because its code is native. .NET starts methods as quick tier-0 code and
        // promotes hot ones to optimized code after ~30 calls and a background delay, so one run would time tier-0 code
        // (measured: tg64 1,130 vs 3,490 tokens/s). Warm up until the JIT has settled: at least two runs and 2 seconds.
        long warmUpStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < 2 || Stopwatch.GetElapsedTime(warmUpStart) < WarmUpTime; i++)
        {
            _ = run();
        }

        double[] samples = new double[repetitions];
        using Process process = Process.GetCurrentProcess();
        process.Refresh();
        TimeSpan before = process.TotalProcessorTime;
        for (int i = 0; i < repetitions; i++)
        {
            samples[i] = run();
        }

        // Over all repetitions at once: the process CPU clock ticks coarsely (10 ms on Linux).
        process.Refresh();
        double cpu = (double)tokens * repetitions / Math.Max((process.TotalProcessorTime - before).TotalSeconds, 1e-6);
        return (samples, cpu);
    }

    // llama-bench's type names for F16 and Q8_0; TurboQuant as the fork names its KV types (turbo2 … turbo4).
    private static string TypeName(KvCacheOptions cache, double bits) => cache.Kind switch
    {
        KvCacheKind.F16 => "f16",
        KvCacheKind.Q8_0 => "q8_0",
        _ => string.Create(CultureInfo.InvariantCulture, $"turbo{bits}"),
    };

    private static double StdDev(double[] samples)
    {
        if (samples.Length < 2)
        {
            return 0;
        }

        double mean = samples.Average();
        return Math.Sqrt(samples.Sum(s => (s - mean) * (s - mean)) / (samples.Length - 1));
    }
}
