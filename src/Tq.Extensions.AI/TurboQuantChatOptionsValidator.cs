using System.Globalization;
using Microsoft.Extensions.Options;
using Tq.Core.Cache;
using Tq.Core.Gguf;
using Tq.Core.Hub;
using Tq.Core.Models;
using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI;

/// <summary>
/// Validates <see cref="TurboQuantChatOptions"/> at startup with messages that say what to change: the model must
/// resolve to a valid GGUF file, the bit widths must be supported, sizes must not be negative, and one session's KV
/// cache at full context (its exact size, from the GGUF header) plus the model file must fit in the available memory and
/// in <see cref="TurboQuantChatOptions.MaxKvCacheBytes"/>.
/// </summary>
internal sealed class TurboQuantChatOptionsValidator : IValidateOptions<TurboQuantChatOptions>
{
    private readonly Func<long> _availableMemory;

    /// <summary>Creates a validator that compares against <see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>.</summary>
    public TurboQuantChatOptionsValidator()
        : this(static () => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)
    {
    }

    internal TurboQuantChatOptionsValidator(Func<long> availableMemory)
    {
        _availableMemory = availableMemory;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TurboQuantChatOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        CheckBits(nameof(options.BitsK), options.BitsK, failures);
        CheckBits(nameof(options.BitsV), options.BitsV, failures);
        CheckKind(options, failures);
        CheckNotNegative(nameof(options.SinkTokens), options.SinkTokens, failures);
        CheckNotNegative(nameof(options.RecentWindow), options.RecentWindow, failures);
        CheckNotNegative(nameof(options.BoundaryLayers), options.BoundaryLayers, failures);
        CheckNotNegative(nameof(options.ContextSize), options.ContextSize, failures);
        CheckNotNegative(nameof(options.Threads), options.Threads, failures);
        CheckNotNegative(nameof(options.MaxKvCacheBytes), options.MaxKvCacheBytes, failures);
        CheckNotNegative(nameof(options.MaxToolCallRetries), options.MaxToolCallRetries, failures);
        if (options.BatchSize < 1)
        {
            failures.Add(Invariant($"BatchSize is {options.BatchSize}; it must be at least 1."));
        }

        if (options.KvCacheKind is null && (options.BitsK == 16f) != (options.BitsV == 16f))
        {
            failures.Add(Invariant($"BitsK is {options.BitsK} and BitsV is {options.BitsV}; 16 (the FP16 cache) applies to keys and values together: set both to 16, or neither."));
        }

        if (options.MaxConcurrentSessions < 1)
        {
            failures.Add(Invariant($"MaxConcurrentSessions is {options.MaxConcurrentSessions}; it must be at least 1."));
        }

        if (!Enum.IsDefined(options.ToolCallFormat))
        {
            failures.Add($"ToolCallFormat {options.ToolCallFormat} is not a defined value; use one of {string.Join(", ", Enum.GetNames<ToolCallFormat>())}.");
        }

        if (options.ChatTemplate is not null && string.IsNullOrWhiteSpace(options.ChatTemplate))
        {
            failures.Add("ChatTemplate is blank; leave it null to use the model's template.");
        }

        CheckSampling(options, failures);
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            failures.Add("ModelPath is required: the path of a .gguf file or the name of a model downloaded with `tq pull` (file.gguf, owner/repo/file.gguf or hf:owner/repo/file.gguf).");
        }
        else
        {
            CheckModel(options, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void CheckModel(TurboQuantChatOptions options, List<string> failures)
    {
        string path;
        try
        {
            path = new ModelStore(options.ModelCacheDirectory).Resolve(options.ModelPath!);
        }
        catch (Exception ex) when (ex is FileNotFoundException or ArgumentException)
        {
            failures.Add($"ModelPath: {ex.Message}");
            return;
        }

        GgufModelInfo info;
        long fileSize;
        long? kvBytes;
        try
        {
            using GgufFile file = GgufFile.Open(path);
            info = GgufModelInfo.FromFile(file);
            fileSize = file.FileSize;
            kvBytes = failures.Count > 0 || (options.ContextSize == 0 && info.ContextLength <= 0) ? null : SessionKvBytes(file, info, options);
        }
        catch (Exception ex) when (ex is GgufFormatException or InvalidDataException or KeyNotFoundException or InvalidCastException or IOException or UnauthorizedAccessException)
        {
            failures.Add($"ModelPath '{path}' is not a usable GGUF model: {ex.Message}");
            return;
        }

        if (options.ContextSize == 0 && info.ContextLength <= 0)
        {
            failures.Add($"The model '{path}' does not state its context length; set ContextSize.");
            return;
        }

        if (failures.Count > 0 || kvBytes is null)
        {
            return; // bad bits or negative sizes make the size meaningless; a model the engine cannot load fails there, with its own error
        }

        int context = options.ContextSize > 0 ? options.ContextSize : info.ContextLength;
        string setting = options.KvCacheKind is KvCacheKind.F16 or KvCacheKind.Q8_0
            ? Invariant($"{context} tokens, KvCacheKind {options.KvCacheKind}")
            : Invariant($"{context} tokens, BitsK {options.BitsK}, BitsV {options.BitsV}");
        long sessionBytes = kvBytes.Value;
        if (options.MaxKvCacheBytes > 0 && sessionBytes > options.MaxKvCacheBytes)
        {
            failures.Add($"One session's KV cache at full context needs about {FormatBytes(sessionBytes)} ({setting}), more than MaxKvCacheBytes ({FormatBytes(options.MaxKvCacheBytes)}). Lower ContextSize or the bits, or raise MaxKvCacheBytes.");
        }

        long available = _availableMemory();
        if (sessionBytes + fileSize > available)
        {
            failures.Add($"The context is too large for this machine's memory: the model ({FormatBytes(fileSize)}) and one session's KV cache at full context (about {FormatBytes(sessionBytes)}, {setting}) exceed the {FormatBytes(available)} available. Lower ContextSize or BitsK/BitsV.");
        }
    }

    /// <summary>
    /// The bytes of one session's KV cache at full context, from the one size model (<see cref="KvCacheFactory.Footprint"/>,
    /// as the session pool and <c>tq info</c>) over the layout the model would load with; null when the file is not a model
    /// the engine can load (loading then reports why).
    /// </summary>
    internal static long? SessionKvBytes(GgufFile file, GgufModelInfo info, TurboQuantChatOptions options)
    {
        int context = options.ContextSize > 0 ? options.ContextSize : info.ContextLength;
        try
        {
            KvCacheLayout layout = ModelCacheLayout.FromFile(file, context, options.BatchSize);
            return KvCacheFactory.Footprint(layout, TurboQuantEngine.CreateKvCacheOptions(options)).BytesFor(context);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidDataException or ArgumentException or KeyNotFoundException or InvalidCastException)
        {
            return null;
        }
    }

    /// <summary>An explicit kind and the bits must not contradict each other.</summary>
    private static void CheckKind(TurboQuantChatOptions options, List<string> failures)
    {
        switch (options.KvCacheKind)
        {
            case null:
                return;
            case KvCacheKind.TurboQuant:
                if (options.BitsK == 16f || options.BitsV == 16f)
                {
                    failures.Add(Invariant($"BitsK is {options.BitsK} and BitsV is {options.BitsV} with KvCacheKind TurboQuant; 16 bits is the F16 cache: set KvCacheKind to F16, or TurboQuant bits (2, 2.5, 3, 3.5, 4 or 8)."));
                }

                return;
            case KvCacheKind.F16 or KvCacheKind.Q8_0:
                // The kind stores its own format; the bits may stay at their defaults or name the same kind.
                float own = options.KvCacheKind == KvCacheKind.F16 ? 16f : 8f;
                var defaults = new TurboQuantChatOptions();
                bool untouched = options.BitsK == defaults.BitsK && options.BitsV == defaults.BitsV;
                if (!untouched && (options.BitsK != own || options.BitsV != own))
                {
                    failures.Add(Invariant($"BitsK is {options.BitsK} and BitsV is {options.BitsV} with KvCacheKind {options.KvCacheKind}, which uses no bit setting: remove BitsK and BitsV, or set KvCacheKind to TurboQuant to compress to those bits."));
                }

                return;
            default:
                failures.Add(Invariant($"KvCacheKind is {options.KvCacheKind}; it must be F16, Q8_0 or TurboQuant."));
                return;
        }
    }

    private static void CheckSampling(TurboQuantChatOptions options, List<string> failures)
    {
        if (!float.IsFinite(options.Temperature) || options.Temperature < 0)
        {
            failures.Add(Invariant($"Temperature is {options.Temperature}; it must be a finite number >= 0 (0 is greedy)."));
        }

        if (!float.IsFinite(options.TopP) || options.TopP <= 0 || options.TopP > 1)
        {
            failures.Add(Invariant($"TopP is {options.TopP}; it must be in (0, 1] (1 disables it)."));
        }

        if (options.TopK < 0)
        {
            failures.Add(Invariant($"TopK is {options.TopK}; it must be >= 0 (0 disables it)."));
        }

        if (!float.IsFinite(options.MinP) || options.MinP < 0 || options.MinP > 1)
        {
            failures.Add(Invariant($"MinP is {options.MinP}; it must be in [0, 1] (0 disables it)."));
        }

        if (!float.IsFinite(options.RepetitionPenalty) || options.RepetitionPenalty <= 0)
        {
            failures.Add(Invariant($"RepetitionPenalty is {options.RepetitionPenalty}; it must be a finite number > 0 (1 disables it)."));
        }

        if (options.MaxOutputTokens is <= 0)
        {
            failures.Add(Invariant($"MaxOutputTokens is {options.MaxOutputTokens}; it must be positive, or null for no cap."));
        }
    }

    private static void CheckBits(string name, float bits, List<string> failures)
    {
        if (!TurboQuantChatOptions.AllowedBits.Contains(bits))
        {
            failures.Add(Invariant($"{name} is {bits}; allowed values are {string.Join(", ", TurboQuantChatOptions.AllowedBits.Select(b => b.ToString(CultureInfo.InvariantCulture)))} (16 = FP16 cache, 8 = Q8_0)."));
        }
    }

    private static void CheckNotNegative(string name, long value, List<string> failures)
    {
        if (value < 0)
        {
            failures.Add(Invariant($"{name} is {value}; it must not be negative."));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => Invariant($"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => Invariant($"{bytes / (double)(1L << 20):F2} MiB"),
        >= 1L << 10 => Invariant($"{bytes / 1024.0:F1} KiB"),
        _ => Invariant($"{bytes} B"),
    };
}
