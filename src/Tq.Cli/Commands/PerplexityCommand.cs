using System.Text.Json;
using System.Text.Json.Nodes;
using Tq.Core.Diagnostics;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Tokenization;

namespace Tq.Cli.Commands;

/// <summary><c>tq perplexity -m model.gguf -f text.txt</c>: llama.cpp's <c>llama-perplexity</c>, figure for figure.</summary>
internal static class PerplexityCommand
{
    public static Command Create()
    {
        var model = CliOptions.ModelFile();
        var file = CliOptions.TextFile();
        var ctx = CliOptions.Context("Tokens per chunk.", 512);
        var chunks = new Option<int>("--chunks") { Description = "At most this many chunks (default: all).", DefaultValueFactory = _ => -1 };
        var batch = new Option<int>("--batch", "-b") { Description = "Tokens per forward pass (capped at the context).", DefaultValueFactory = _ => 2048 };
        var threads = CliOptions.Threads();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = CliOptions.Command("perplexity", "Perplexity of a text file, computed exactly as llama.cpp's llama-perplexity.", model, file, ctx, chunks, batch, threads, json);

        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(() => Task.FromResult(Run(
            parse.GetValue(model)!.FullName, parse.GetValue(file)!.FullName, parse.GetValue(ctx), parse.GetValue(chunks),
            parse.GetValue(batch), parse.GetValue(threads), parse.GetValue(json), cancellationToken))));
        return command;
    }

    private static int Run(string modelPath, string textPath, int ctx, int chunks, int batch, int threads, bool json, CancellationToken cancellationToken)
    {
        // Checked before the model loads and the text is tokenized: the progress line below divides by the context.
        if (ctx < 4)
        {
            throw new ArgumentException($"--ctx must be at least 4 tokens; got {ctx}.", nameof(ctx));
        }

        using Model model = Model.Load(modelPath, new ModelOptions { Threads = threads });
        Tokenizer tokenizer = Tokenizer.FromGguf(model.File);
        int[] tokens = tokenizer.Encode(File.ReadAllText(textPath), addSpecial: true);
        Console.Error.WriteLine($"tq: {Path.GetFileName(textPath)}: {tokens.Length} tokens; context {ctx}, {(chunks > 0 ? chunks : tokens.Length / ctx)} of {tokens.Length / ctx} chunks, {model.Threads} threads");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        PerplexityResult result = PerplexityEvaluator.Evaluate(model, tokens, ctx, chunks, batch,
            json ? null : (i, ppl) => Console.Out.Write(string.Create(CultureInfo.InvariantCulture, $"[{i}]{ppl:F4},")), tokenizer.AddBos, cancellationToken);
        watch.Stop();
        if (json)
        {
            Console.Out.WriteLine(new JsonObject
            {
                ["model"] = Path.GetFileName(modelPath),
                ["text"] = Path.GetFileName(textPath),
                ["ctx"] = ctx,
                ["chunks"] = result.Chunks,
                ["scored_tokens"] = result.ScoredTokens,
                ["ppl"] = Math.Round(result.Perplexity, 4),
                ["stderr"] = Math.Round(result.Error, 5),
                ["running"] = new JsonArray([.. result.RunningEstimates.Select(e => (JsonNode?)Math.Round(e, 4))]),
                ["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 3),
            }.ToJsonString());
        }
        else
        {
            Console.Out.WriteLine();
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Final estimate: PPL = {result.Perplexity:F4} +/- {result.Error:F5}"));
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tq: {result.Chunks * ctx} tokens evaluated in {watch.Elapsed.TotalSeconds:F2} s ({result.Chunks * ctx / watch.Elapsed.TotalSeconds:F0} tokens/s)"));
        return 0;
    }
}
