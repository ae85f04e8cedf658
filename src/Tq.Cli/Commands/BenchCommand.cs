using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tq.Core.Cache;
using Tq.Core.Inference;
using Tq.Core.Models;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq bench -m model.gguf -p 128 -n 64</c>: llama-bench's two tests. <c>ppN</c> evaluates N tokens as one prompt from
/// an empty cache; <c>tgN</c> decodes N tokens one at a time from an empty cache. Each test warms up (at least 2 s, so the JIT reaches optimized code), then
/// <c>-r</c> times; the figures are mean ± sample standard deviation of tokens/s, as llama-bench reports.
/// </summary>
internal static class BenchCommand
{
    private static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "The GGUF model.", Required = true };
        var prompt = new Option<int>("--n-prompt", "-p") { Description = "Prompt tokens of the pp test (0: skip).", DefaultValueFactory = _ => 128 };
        var gen = new Option<int>("--n-gen", "-n") { Description = "Generated tokens of the tg test (0: skip).", DefaultValueFactory = _ => 64 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "Repetitions of each test.", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads (default: every core).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print JSON (llama-bench field names) instead of a table." };
        var command = new Command("bench", "Prefill (ppN) and decode (tgN) speed, as llama-bench measures them.");
        foreach (Option o in new Option[] { model, prompt, gen, reps, threads, json })
        {
            command.Options.Add(o);
        }

        var cache = new CacheArguments("f16");
        cache.AddTo(command);

        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(() => Task.FromResult(Run(
            parse.GetValue(model)!.FullName, parse.GetValue(prompt), parse.GetValue(gen), parse.GetValue(reps),
            parse.GetValue(threads), parse.GetValue(json), cache.Read(parse), cancellationToken))));
        return command;
    }

    private static int Run(string modelPath, int promptTokens, int genTokens, int repetitions, int threads, bool json, KvCacheOptions cache, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(promptTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(genTokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repetitions);
        using Model model = Model.Load(modelPath, new ModelOptions { Threads = threads });
        int context = Math.Max(promptTokens, genTokens) + 1;
        using Session session = model.CreateSession(new SessionOptions { ContextLength = context, BatchSize = Math.Max(promptTokens, 1), KvCache = cache });
        var random = new Random(1234);
        int[] tokens = new int[Math.Max(promptTokens, 1)];
        var results = new List<(string Test, double[] Samples, double[] CpuSamples)>();

        if (promptTokens > 0)
        {
            results.Add(Measure($"pp{promptTokens}", promptTokens, repetitions, () =>
            {
                for (int i = 0; i < tokens.Length; i++)
                {
                    tokens[i] = random.Next(model.VocabularySize);
                }

                session.Reset();
                long start = Stopwatch.GetTimestamp();
                session.Evaluate(tokens, cancellationToken);
                return promptTokens / Stopwatch.GetElapsedTime(start).TotalSeconds;
            }));
        }

        if (genTokens > 0)
        {
            if (ForwardProfile.Enabled)
            {
                Console.Error.WriteLine(ForwardProfile.Report());
                ForwardProfile.Reset();
            }

            results.Add(Measure($"tg{genTokens}", genTokens, repetitions, () =>
            {
                session.Reset();
                int token = Math.Max(model.BosTokenId, 0);
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < genTokens; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    session.Append(token);
                    token = random.Next(model.VocabularySize);
                }

                return genTokens / Stopwatch.GetElapsedTime(start).TotalSeconds;
            }));
        }

        if (ForwardProfile.Enabled)
        {
            Console.Error.WriteLine(ForwardProfile.Report());
        }

        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        if (json)
        {
            Console.Out.WriteLine(new JsonArray([.. results.Select(r => (JsonNode?)new JsonObject
            {
                ["model"] = Path.GetFileName(modelPath),
                ["test"] = r.Test,
                ["avg_ts"] = r.Samples.Average(),
                ["stddev_ts"] = StdDev(r.Samples),
                ["samples_ts"] = new JsonArray([.. r.Samples.Select(x => (JsonNode?)x)]),
                ["cpu_ts"] = r.CpuSamples[0],
                ["threads"] = model.Threads,
                ["type_k"] = TypeName(cache, cache.BitsK),
                ["type_v"] = TypeName(cache, cache.BitsV),
                ["peak_working_set_bytes"] = peak,
                ["model_bytes"] = model.FileSize,
            })]).ToJsonString());
        }
        else
        {
            Console.Out.WriteLine($"| model | size | threads | test | t/s | t/s of CPU time |");
            Console.Out.WriteLine($"| --- | ---: | ---: | ---: | ---: | ---: |");
            foreach ((string test, double[] samples, double[] cpu) in results)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Path.GetFileName(modelPath)} | {model.FileSize / 1048576.0:F2} MiB | {model.Threads} | {test} | {samples.Average():F2} ± {StdDev(samples):F2} | {cpu[0]:F2} |"));
            }

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tq: KV cache {CacheArguments.Label(cache)}: {session.KvCacheBytes} B for {context} tokens ({session.KvCacheBytesPerToken} B/token past the FP16 sinks)"));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tq: peak working set {peak / 1048576.0:F1} MiB (model file {model.FileSize / 1048576.0:F1} MiB)"));
        }

        return 0;
    }

    // Each sample also in tokens per second of process CPU time: on a machine shared with other work, single-thread
    // CPU-time throughput approximates the uncontended speed (wall-clock figures include time spent descheduled).
    private static (string Test, double[] Samples, double[] CpuSamples) Measure(string test, int tokens, int repetitions, Func<double> run)
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
        return (test, samples, [cpu]);
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
