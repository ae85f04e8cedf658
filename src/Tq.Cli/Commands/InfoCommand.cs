using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Tq.Core.Cache;
using Tq.Core.Gguf;
using Tq.Core.Models;
using Tq.Core.Tensors;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq info [model.gguf]</c>: without a model, the machine's SIMD support, cores and the tool version; with a model,
/// its architecture, size, quant types, context, tokenizer, chat template and KV-cache memory.
/// </summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var model = new OptionalModel("A GGUF model file to describe.");
        var command = CliOptions.Command("info", "Print the machine's SIMD support, or a GGUF model's facts and KV-cache memory.");
        model.AddTo(command);
        command.SetAction(parse =>
        {
            FileInfo? file = model.Read(parse);
            if (file is null)
            {
                PrintMachine(Console.Out);
                return 0;
            }

            return CliErrors.Run(() => PrintModel(Console.Out, file.FullName));
        });
        return command;
    }

    internal static void PrintMachine(TextWriter output)
    {
        string version = typeof(InfoCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        output.WriteLine($"tq {version}");
        output.WriteLine($"runtime      {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.ProcessArchitecture})");
        output.WriteLine($"cores        {Environment.ProcessorCount}");
        output.WriteLine($"Vector512    {(Vector512.IsHardwareAccelerated ? "accelerated" : "not accelerated")}");
        output.WriteLine($"Vector256    {(Vector256.IsHardwareAccelerated ? "accelerated" : "not accelerated")}");
        output.WriteLine($"Vector128    {(Vector128.IsHardwareAccelerated ? "accelerated" : "not accelerated")}");
        output.WriteLine($"x86          AVX-512F {Avx512F.IsSupported}, AVX-512BW {Avx512BW.IsSupported}, AVX-512VBMI {Avx512Vbmi.IsSupported}, AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}");
    }

    internal static void PrintModel(TextWriter output, string path)
    {
        using GgufFile file = GgufFile.Open(path);
        output.WriteLine($"file         {file.Path} ({FormatBytes(file.FileSize)}, GGUF v{file.Version}, {file.Metadata.Count} metadata keys, {file.Tensors.Count} tensors)");
        if (file.Architecture is null)
        {
            output.WriteLine("architecture (none: vocabulary-only file)");
            PrintTokenizer(output, file.Metadata);
            return;
        }

        GgufModelInfo info = GgufModelInfo.FromFile(file);
        output.WriteLine($"architecture {info.Architecture}{(info.Name is null ? string.Empty : $" ({info.Name})")}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"parameters   {info.ParameterCount:N0}"));
        output.WriteLine($"quant types  {string.Join(", ", file.Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} x{g.Count()}"))}");
        output.WriteLine($"context      {info.ContextLength}");
        output.WriteLine($"shape        embedding {info.EmbeddingLength}, layers {info.BlockCount}, heads {info.HeadCount}, KV heads {info.HeadCountKv}, head dim {info.KeyLength}, FFN {info.FeedForwardLength}, vocab {info.VocabularySize}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rope         dims {info.RopeDimensionCount}, freq base {info.RopeFreqBase}, scaling {info.RopeScalingType ?? "none"}{(info.RopeScalingFactor > 0 ? $" x{info.RopeScalingFactor}" : string.Empty)}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"norm eps     rms {info.RmsNormEpsilon}, layer {info.LayerNormEpsilon}"));
        PrintTokenizer(output, file.Metadata);
        if (info.BlockCount <= 0 || info.HeadCountKv <= 0 || info.KeyLength <= 0 || info.ValueLength <= 0)
        {
            return;
        }

        int context = info.ContextLength > 0 ? info.ContextLength : 4096;
        Model model;
        try
        {
            model = Model.Load(path, new ModelOptions { Threads = 1 });
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidDataException)
        {
            // Still worth describing (e.g. to see why): the memory of a plain cache of this shape.
            output.WriteLine($"engine       refused: {ex.Message}");
            int ropeDims = info.RopeDimensionCount > 0 ? info.RopeDimensionCount : info.KeyLength;
            var rope = new RotaryEmbedding(RopeStyle.Normal, info.KeyLength, ropeDims, info.RopeFreqBase > 0 ? info.RopeFreqBase : 10000, 1);
            PrintKvMemory(output,
                new KvCacheLayout(info.BlockCount, info.HeadCount, info.HeadCountKv, info.KeyLength, info.ValueLength, 1000, rope),
                new KvCacheLayout(info.BlockCount, info.HeadCount, info.HeadCountKv, info.KeyLength, info.ValueLength, context, rope), context);
            return;
        }

        using (model)
        {
            PrintDefinition(output, model, context);
            PrintKvMemory(output, model.CreateCacheLayout(1000, SessionBatch), model.CreateCacheLayout(context, SessionBatch), context);
        }
    }

    // The default SessionOptions.BatchSize: a sliding-window layer's F16 ring holds its window plus one batch.
    private const int SessionBatch = 512;

    // What the architecture definition resolved: RoPE per layer kind, the sliding-window layout, scales, caps, experts.
    internal static void PrintDefinition(TextWriter output, Model model, int context)
    {
        ModelHyperParameters hp = model.HyperParameters;
        KvCacheLayout layout = model.CreateCacheLayout(context, SessionBatch);
        string Rope(RotaryEmbedding r) => string.Create(CultureInfo.InvariantCulture,
            $"base {r.FreqBase}, scale {r.FreqScale}{(r.AttnFactor != 1 ? $", attn factor {r.AttnFactor:G6}" : string.Empty)}{(r.Yarn is { } y ? $", YaRN from {y.OriginalContext} (beta {y.BetaFast}/{y.BetaSlow})" : string.Empty)}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"definition   {model.ArchitectureName}: {model.Architecture.RopeStyle} RoPE, scaling {hp.RopeScaling}; full layers {Rope(layout.Attention.FirstOrDefault(a => !a.IsSliding)?.Rope ?? layout.Rope)}"));
        if (hp.RopeScaling == "longrope" || model.Architecture is Phi3Architecture)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"             LongRoPE factors: {(RopeFactors.PaddedContext(context) > hp.OriginalContext ? "long" : "short")} at the context of {context} (long when the context padded to 256 exceeds {hp.OriginalContext}, as llama.cpp)"));
        }

        if (layout.HasSlidingLayers)
        {
            LayerAttention sliding = layout.Attention.First(a => a.IsSliding);
            string pattern = new([.. layout.Attention.Select(a => a.IsSliding ? 'S' : 'F')]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"SWA          window {sliding.SlidingWindow} on {layout.Attention.Count(a => a.IsSliding)} of {layout.Layers} layers (S sliding, F full: {pattern}); sliding layers {Rope(sliding.Rope)}"));
        }
        else
        {
            output.WriteLine("SWA          none (every layer attends to the whole context)");
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"attention    {(hp.QueryScale != 0 ? $"queries x{hp.QueryScale:G6}, scores unscaled" : $"scores x1/sqrt({model.KeyLength})")}{(hp.AttentionSoftCap != 0 ? $", soft-cap {hp.AttentionSoftCap}" : string.Empty)}{(hp.FinalSoftCap != 0 ? $"; final logit soft-cap {hp.FinalSoftCap}" : string.Empty)}{(hp.EmbeddingScale != 1 ? $"; embeddings x{hp.EmbeddingScale:G6}" : string.Empty)}"));
        if (hp.ExpertCount > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"experts      {hp.ExpertCount}, {hp.ExpertUsedCount} used per token (softmax, normalized weights), FFN {hp.ExpertFeedForwardLength} each"));
        }

        long row = (long)layout.KvHeads * (layout.KeyLength + layout.ValueLength) * sizeof(ushort);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"KV per layer F16: {row} B/token per layer; full layers grow with the context{(layout.HasSlidingLayers ? $", sliding layers keep a ring of window + batch ({layout.RowsFor(layout.Attention.ToList().FindIndex(a => a.IsSliding))} rows = {FormatBytes(layout.RowsFor(layout.Attention.ToList().FindIndex(a => a.IsSliding)) * row)} each at batch {SessionBatch}); compressed kinds keep every row of sliding layers" : string.Empty)}"));
    }

    // Exact bytes from the caches' own accounting (KvCacheFactory.Footprint), per 1,000 tokens and at the full context.
    internal static void PrintKvMemory(TextWriter output, KvCacheLayout per1000, KvCacheLayout full, int context)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"KV cache     per 1,000 tokens | at the full context of {context} (ratio vs F16 without windows); TurboQuant with 4 FP16 sinks and a 14-token FP16 window unless noted"));
        var settings = new (string Label, KvCacheOptions Options)[]
        {
            ("F16", new KvCacheOptions()),
            ("Q8_0", new KvCacheOptions { Kind = KvCacheKind.Q8_0 }),
            ("TQ K4/V4", KvCacheOptions.TurboQuant(4, 4)),
            ("TQ K4/V3", KvCacheOptions.TurboQuant(4, 3)),
            ("TQ K4/V2 (default)", KvCacheOptions.TurboQuant(4, 2)),
            ("TQ K3.5/V2.5", KvCacheOptions.TurboQuant(3.5, 2.5)),
            ("TQ K3/V2", KvCacheOptions.TurboQuant(3, 2)),
            ("TQ K2/V2", KvCacheOptions.TurboQuant(2, 2)),
            ("TQ K8/V2", KvCacheOptions.TurboQuant(8, 2)),
            ("TQ K4/V2 QJL keys", new KvCacheOptions { Kind = KvCacheKind.TurboQuant, KeyResidualQjl = true }),
            ("TQ K4/V2 boundary 1 (Q8_0)", new KvCacheOptions { Kind = KvCacheKind.TurboQuant, BoundaryLayers = 1 }),
            ("TQ K4/V2 no sinks, no window", new KvCacheOptions { Kind = KvCacheKind.TurboQuant, SinkTokens = 0, RecentWindow = 0 }),
        };
        foreach ((string label, KvCacheOptions options) in settings)
        {
            KvCacheFootprint a = KvCacheFactory.Footprint(per1000, options), b = KvCacheFactory.Footprint(full, options);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {label,-30} {FormatBytes(a.BytesFor(1000)),11} | {FormatBytes(b.BytesFor(context)),11} ({b.CompressionRatio(context):F2}x), {b.BytesPerToken} B/token past the sinks{(b.FixedBytes > 0 ? $" + {FormatBytes(b.FixedBytes)} fixed" : string.Empty)}"));
        }
    }

    private static void PrintTokenizer(TextWriter output, GgufMetadata m)
    {
        string model = m.GetStringOrDefault("tokenizer.ggml.model") ?? "none";
        string pre = m.GetStringOrDefault("tokenizer.ggml.pre") ?? "-";
        int count = m.TryGetValue("tokenizer.ggml.tokens", out GgufValue? tokens) ? tokens.Count : 0;
        output.WriteLine($"tokenizer    {model} (pre {pre}), {count} tokens, bos {m.GetInt64OrDefault("tokenizer.ggml.bos_token_id", -1)}, eos {m.GetInt64OrDefault("tokenizer.ggml.eos_token_id", -1)}");
        output.WriteLine($"chat template {(m.ContainsKey("tokenizer.chat_template") ? $"yes ({m.GetString("tokenizer.chat_template").Length} chars)" : "no")}");
    }

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F2} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
