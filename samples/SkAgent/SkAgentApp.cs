using System.Globalization;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using SkAgent.Plugins;
using Tq.Core.Inference;
using Tq.SemanticKernel;
using TqConnector.Samples;

namespace SkAgent;

/// <summary>
/// A Semantic Kernel agent on a local model: plugins over a folder of documents, a calculator and the clock; one
/// document loaded into the context; answers streamed; KV-cache memory shown for TurboQuant against FP16.
/// </summary>
public static class SkAgentApp
{
    /// <summary>Runs the sample.</summary>
    /// <param name="args">The command line (see <c>--help</c>).</param>
    /// <param name="input">Questions in interactive mode (one a line; an empty line or <c>/exit</c> ends, as in the other samples and <c>tq chat</c>).</param>
    /// <param name="output">Where the answers and figures go.</param>
    /// <param name="cancellationToken">Stops the current answer.</param>
    /// <returns>The exit code: 0 on success, 1 when a question failed (context full, malformed tool call), 2 on a bad command line.</returns>
    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        if (args.Contains("--help") || args.Contains("-h"))
        {
            await output.WriteLineAsync(SkAgentOptions.Usage).ConfigureAwait(false);
            return 0;
        }

        SkAgentOptions options;
        try
        {
            options = SkAgentOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await output.WriteLineAsync(e.Message + Environment.NewLine + SkAgentOptions.Usage).ConfigureAwait(false);
            return 2;
        }

        string shared = Path.Combine(FindRepositoryRoot(), "..", "shared");
        string model = SampleModels.Resolve(options.Model);
        var documents = new DocumentsPlugin(options.Docs ?? Path.Combine(shared, "corpora", "needle_haystack", "PaulGrahamEssays"));
        IReadOnlyList<string> names = documents.Names;
        string documentName = options.Document
            ?? (names.Count > 0 ? names[0] : throw new FileNotFoundException("The documents folder holds no .txt or .md file."));

        // The model's trained context, unless the agent's instructions, three tool schemas and the document excerpt need
        // more (about 1,200 tokens with tq-chat-5m's 518-token vocabulary): then the smallest window that holds them.
        int trained = TrainedContext(model);
        int context = options.Context > 0 ? options.Context : Math.Max(trained, MinimumAgentContext);
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddTurboQuantChatCompletion(
            o =>
            {
                o.ModelPath = model;
                o.ContextSize = context;
                o.BitsK = options.BitsK;
                o.BitsV = options.BitsV;
                o.Temperature = options.Temperature;
                o.Seed = options.Seed;
            },
            configureContext: c => c.OverflowPolicy = ContextOverflowPolicy.TruncateOldest);
        builder.Plugins.AddFromObject(documents, "docs");
        builder.Plugins.AddFromType<CalculatorPlugin>("calc");
        builder.Plugins.AddFromObject(new TimePlugin(TimeProvider.System), "clock");
        Kernel kernel = builder.Build();

        string document = documents.ReadDocument(documentName, options.DocumentChars);
        var agent = new TurboQuantAgent(kernel)
        {
            Name = "reader",
            Instructions = "You are a helpful assistant. Answer questions about this document.\n\n" + document,
            ExecutionSettings = new TurboQuantPromptExecutionSettings
            {
                FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(),
                MaxTokens = options.MaxTokens,
                Temperature = options.Temperature,
                Seed = options.Seed,
            },
        };

        var service = (TurboQuantChatCompletionService)agent.ChatCompletion;
        await output.WriteLineAsync(Invariant($"model {Path.GetFileName(model)}, KV cache {service.Engine.KvCache.Kind} (K{options.BitsK}/V{options.BitsV}), context {service.Engine.ContextLength} tokens")).ConfigureAwait(false);
        if (trained > 0 && service.Engine.ContextLength > trained)
        {
            await output.WriteLineAsync(Invariant($"note: the model was trained on {trained} tokens; beyond that its answers degrade (the agent's tools and document need {service.Engine.ContextLength})")).ConfigureAwait(false);
        }
        await output.WriteLineAsync(Invariant($"document {documentName}: {document.Length} characters in context; plugins: {string.Join(", ", kernel.Plugins.SelectMany(p => p.Select(f => p.Name + "." + f.Name)))}")).ConfigureAwait(false);

        IEnumerable<string> prompts = options.Prompts.Count > 0 ? options.Prompts : ReadPrompts(input);
        int failures = 0;
        foreach (string prompt in prompts)
        {
            await output.WriteLineAsync("> " + prompt).ConfigureAwait(false);
            int before = agent.History.Count;
            try
            {
                await foreach (StreamingChatMessageContent update in agent.InvokeStreamingAsync(prompt, cancellationToken).ConfigureAwait(false))
                {
                    await output.WriteAsync(update.Content).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (ContextOverflowException e)
            {
                await output.WriteLineAsync(e.Message + " Load less of the document (--document-chars) or raise --context.").ConfigureAwait(false);
                return 1;
            }
            catch (InvalidOperationException e)
            {
                // Small models sometimes write a tool call that does not parse; the agent rolled the turn back.
                await output.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
                failures++;
                continue;
            }

            await output.WriteLineAsync().ConfigureAwait(false);
            List<KernelContent> items = [.. agent.History.Skip(before).SelectMany(m => m.Items)];
            foreach (FunctionResultContent result in items.OfType<FunctionResultContent>())
            {
                FunctionCallContent? call = items.OfType<FunctionCallContent>().FirstOrDefault(c => c.Id == result.CallId);
                string text = Convert.ToString(result.Result, CultureInfo.InvariantCulture) ?? string.Empty;
                await output.WriteLineAsync(Invariant($"  [tool {call?.FunctionName ?? result.CallId} returned {text.Length} characters: {Shorten(text)}]")).ConfigureAwait(false);
            }

            TurboQuantKvCacheUsage usage = agent.GetKvCacheUsage();
            long perToken = usage.Tokens == 0 ? 0 : usage.KvCacheBytes / usage.Tokens;
            long f16PerToken = usage.Tokens == 0 ? 0 : usage.F16KvCacheBytes / usage.Tokens;
            await output.WriteLineAsync(Invariant(
                $"  KV cache for {usage.Tokens} tokens: {usage.KvCacheKind} {Kib(usage.KvCacheBytes)} vs FP16 {Kib(usage.F16KvCacheBytes)} ({usage.CompressionRatio:F2}x); full {usage.ContextLength}-token context: {Kib(perToken * usage.ContextLength)} vs {Kib(f16PerToken * usage.ContextLength)}")).ConfigureAwait(false);
        }

        return failures == 0 ? 0 : 1;
    }

    /// <summary>The context the agent's prompt needs at the default document excerpt on the default model.</summary>
    private const int MinimumAgentContext = 1536;

    private static int TrainedContext(string modelPath)
    {
        try
        {
            using Tq.Core.Gguf.GgufFile file = Tq.Core.Gguf.GgufFile.Open(modelPath);
            return Tq.Core.Gguf.GgufModelInfo.FromFile(file).ContextLength;
        }
        catch (Exception e) when (e is IOException or Tq.Core.Gguf.GgufFormatException or UnauthorizedAccessException)
        {
            return 0; // reported when the engine loads it
        }
    }

    private static IEnumerable<string> ReadPrompts(TextReader input)
    {
        while (input.ReadLine() is string line && line.Length > 0 && line.Trim() != "/exit")
        {
            yield return line;
        }
    }

    private static string Shorten(string text)
    {
        string flat = text.ReplaceLineEndings(" ");
        return flat.Length <= 60 ? flat : flat[..60] + "...";
    }

    private static string Kib(long bytes) => (bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The folder holding TqConnector.sln, searched upwards from the program and then from the working directory.</summary>
    private static string FindRepositoryRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "TqConnector.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("TqConnector.sln was not found above the program or the working directory; pass --model and --docs.");
    }
}
