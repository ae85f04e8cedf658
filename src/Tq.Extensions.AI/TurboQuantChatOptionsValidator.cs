using Microsoft.Extensions.Options;
using Tq.Core.Hub;
using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI;

/// <summary>
/// Checks <see cref="TurboQuantChatOptions"/> before a model is loaded; every failure names the option, its value and
/// what is allowed, so a bad <c>appsettings.json</c> fails at startup rather than at the first request.
/// </summary>
public sealed class TurboQuantChatOptionsValidator : IValidateOptions<TurboQuantChatOptions>
{
    /// <summary>Validates <paramref name="options"/>.</summary>
    /// <param name="name">The options name (the service key of a keyed registration), or null.</param>
    /// <param name="options">The options.</param>
    public ValidateOptionsResult Validate(string? name, TurboQuantChatOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        string prefix = string.IsNullOrEmpty(name) ? "TurboQuantChatOptions" : $"TurboQuantChatOptions '{name}'";
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            failures.Add($"{prefix}.ModelPath is required: the path of a .gguf file or a model pulled with `tq pull`.");
        }
        else
        {
            try
            {
                new ModelStore(options.ModelStorePath).Resolve(options.ModelPath);
            }
            catch (Exception e) when (e is FileNotFoundException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                failures.Add($"{prefix}.ModelPath: {e.Message}");
            }
        }

        Check(options.BitsK is >= 0 and <= 8, $"{prefix}.BitsK is {options.BitsK}; use 0 (FP16 keys) or 1-8 bits.");
        Check(options.BitsV is >= 0 and <= 8, $"{prefix}.BitsV is {options.BitsV}; use 0 (FP16 values) or 1-8 bits.");
        Check(options.SinkTokens >= 0, $"{prefix}.SinkTokens is {options.SinkTokens}; it cannot be negative.");
        Check(options.RecentWindow >= 0, $"{prefix}.RecentWindow is {options.RecentWindow}; it cannot be negative.");
        Check(options.BoundaryLayers >= 0, $"{prefix}.BoundaryLayers is {options.BoundaryLayers}; it cannot be negative.");
        Check(options.ContextLength >= 0, $"{prefix}.ContextLength is {options.ContextLength}; use 0 (the model's context) or a positive token count.");
        Check(options.BatchSize > 0, $"{prefix}.BatchSize is {options.BatchSize}; it must be positive.");
        Check(options.Threads >= 0, $"{prefix}.Threads is {options.Threads}; use 0 (every core) or a positive count.");
        Check(options.MaxConcurrentSessions > 0, $"{prefix}.MaxConcurrentSessions is {options.MaxConcurrentSessions}; at least one session is needed.");
        Check(options.MaxKvCacheBytes >= 0, $"{prefix}.MaxKvCacheBytes is {options.MaxKvCacheBytes}; use 0 (no limit) or a positive byte count.");
        Check(options.MaxToolCallRetries >= 0, $"{prefix}.MaxToolCallRetries is {options.MaxToolCallRetries}; it cannot be negative.");
        Check(options.DefaultMaxOutputTokens >= 0, $"{prefix}.DefaultMaxOutputTokens is {options.DefaultMaxOutputTokens}; use 0 (up to the context end) or a positive count.");
        Check(Enum.IsDefined(options.ToolCallFormat), $"{prefix}.ToolCallFormat is {options.ToolCallFormat}; use one of {string.Join(", ", Enum.GetNames<ToolCallFormat>())}.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(bool condition, string message)
        {
            if (!condition)
            {
                failures.Add(message);
            }
        }
    }
}
