using System.Diagnostics;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Sampling;
using Tq.Core.Tokenization;

namespace Tq.Cli.Commands;

/// <summary><c>tq run -m model.gguf -p "text"</c>: streams a continuation to stdout, timings to stderr.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = CliOptions.ModelFile();
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt text.", Required = true };
        var count = new Option<int>("--n-predict", "-n") { Description = "Tokens to generate.", DefaultValueFactory = _ => 128 };
        var sampling = new OptionBinder<SamplerOptions>()
            .Add(CliOptions.Temperature(), (o, v) => o.Temperature = v)
            .Add(new Option<int>("--top-k") { Description = "Top-k (0: off).", DefaultValueFactory = _ => 40 }, (o, v) => o.TopK = v)
            .Add(new Option<float>("--top-p") { Description = "Top-p (1: off).", DefaultValueFactory = _ => 0.95f }, (o, v) => o.TopP = v)
            .Add(new Option<float>("--min-p") { Description = "Min-p (0: off).", DefaultValueFactory = _ => 0.05f }, (o, v) => o.MinP = v)
            .Add(new Option<float>("--repeat-penalty") { Description = "Repeat penalty (1: off).", DefaultValueFactory = _ => 1f }, (o, v) => o.RepeatPenalty = v)
            .Add(new Option<float>("--frequency-penalty") { Description = "Frequency penalty.", DefaultValueFactory = _ => 0f }, (o, v) => o.FrequencyPenalty = v)
            .Add(new Option<float>("--presence-penalty") { Description = "Presence penalty.", DefaultValueFactory = _ => 0f }, (o, v) => o.PresencePenalty = v)
            .Add(new Option<ulong?>("--seed", "-s") { Description = "Sampling seed (default: random)." }, (o, v) => o.Seed = v);
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable).", AllowMultipleArgumentsPerToken = false };
        var threads = CliOptions.Threads();
        var ctx = CliOptions.Context("Context window (default: the model's, at most 4096).");
        var json = new Option<bool>("--json") { Description = "Constrain the continuation to a JSON object (generation ends when it is complete)." };
        var jsonSchema = new Option<string?>("--json-schema") { Description = "Constrain the continuation to JSON matching this JSON Schema (inline JSON text, as llama.cpp's --json-schema)." };
        var command = CliOptions.Command("run", "Generate a continuation of a prompt, streamed to stdout.", [model, prompt, count, .. sampling.Options, stop, threads, ctx, json, jsonSchema]);

        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(() =>
        {
            JsonOutput? output = JsonOutput.FromOptions(parse.GetValue(json), parse.GetValue(jsonSchema));
            return Task.FromResult(Run(parse.GetValue(model)!.FullName, parse.GetValue(prompt)!, parse.GetValue(count), sampling.Bind(parse, new SamplerOptions()), output,
                parse.GetValue(stop) ?? [], parse.GetValue(threads), parse.GetValue(ctx), cancellationToken));
        }));
        return command;
    }

    private static int Run(string modelPath, string prompt, int count, SamplerOptions sampling, JsonOutput? json, string[] stops, int threads, int ctx, CancellationToken cancellationToken)
    {
        // Checked before anything is written: generation validates lazily, after the prompt is already on stdout.
        if (count < 0)
        {
            throw new ArgumentException($"--n-predict (-n) must be 0 or more; got {count}.");
        }

        var sampler = new Sampler(sampling);
        using Model model = Model.Load(modelPath, new ModelOptions { Threads = threads });
        Tokenizer tokenizer = Tokenizer.FromGguf(model.File);
        if (json is not null)
        {
            // The same JSON stage of the sampling chain as the chat client's JSON mode.
            sampler = new Sampler(sampling, json.CreateConstraint(tokenizer));
        }

        int context = ctx > 0 ? ctx : Math.Min(model.TrainedContextLength > 0 ? model.TrainedContextLength : 4096, 4096);
        CliErrors.WarnIfBeyondTraining(context, model.TrainedContextLength);
        using Session session = model.CreateSession(new SessionOptions { ContextLength = context });
        int[] tokens = tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true);
        if (tokens.Length + count > context)
        {
            throw new ContextOverflowException(tokens.Length + count, context);
        }

        long start = Stopwatch.GetTimestamp();
        session.SetHistory(tokens, cancellationToken);
        TimeSpan prefill = Stopwatch.GetElapsedTime(start);

        StreamingDecoder decoder = tokenizer.CreateStreamingDecoder();
        var matcher = new StopSequenceMatcher(stops);
        Console.Out.Write(prompt);
        int generated = 0;
        start = Stopwatch.GetTimestamp();
        foreach (int token in session.Generate(sampler, count, tokenizer.IsEndOfGeneration, cancellationToken))
        {
            generated++;
            if (tokenizer.IsEndOfGeneration(token))
            {
                break;
            }

            Console.Out.Write(matcher.Append(decoder.Append(token)));
            Console.Out.Flush();
            if (matcher.Stopped)
            {
                break;
            }
        }

        Console.Out.Write(matcher.Append(decoder.Flush()));
        Console.Out.Write(matcher.Flush());
        Console.Out.WriteLine();
        TimeSpan decode = Stopwatch.GetElapsedTime(start);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tq: prefill {tokens.Length} tokens in {prefill.TotalMilliseconds:F1} ms ({tokens.Length / prefill.TotalSeconds:F1} tokens/s); " +
            $"decode {generated} tokens in {decode.TotalMilliseconds:F1} ms ({generated / decode.TotalSeconds:F1} tokens/s); " +
            $"{model.Threads} threads; KV cache {session.KvCacheBytes / 1048576.0:F2} MiB; peak working set {Environment.WorkingSet / 1048576.0:F0}/{Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB"));
        return 0;
    }
}
