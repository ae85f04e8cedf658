using System.Diagnostics;
using System.Globalization;

namespace Tq.Core.Models;

/// <summary>
/// Optional wall-clock breakdown of the forward pass by stage, switched on with the environment variable
/// <c>TQ_PROFILE=1</c> (read once); off, each stage costs one branch. For finding where time goes, not for figures.
/// </summary>
internal static class ForwardProfile
{
    /// <summary>The measured stages.</summary>
    public enum Stage
    {
        /// <summary>Embedding lookup and RoPE tables.</summary>
        Embed,

        /// <summary>RMSNorm, residual adds, bias, SwiGLU.</summary>
        Elementwise,

        /// <summary>Q/K/V projections.</summary>
        Qkv,

        /// <summary>RoPE on queries and keys.</summary>
        Rope,

        /// <summary>Cache store and attention.</summary>
        Attention,

        /// <summary>Attention output projection.</summary>
        AttentionOutput,

        /// <summary>Gate, up and down projections.</summary>
        Mlp,

        /// <summary>Output norm and head.</summary>
        Head,

        /// <summary>Count.</summary>
        Count,
    }

    private static readonly long[] s_ticks = new long[(int)Stage.Count];

    /// <summary>True when profiling is on.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("TQ_PROFILE") == "1";

    /// <summary>A timestamp when profiling, else 0.</summary>
    public static long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Adds the time since <paramref name="start"/> to <paramref name="stage"/> and returns a new start.</summary>
    public static long Add(Stage stage, long start)
    {
        if (!Enabled)
        {
            return 0;
        }

        long now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref s_ticks[(int)stage], now - start);
        return now;
    }

    /// <summary>Clears the counters.</summary>
    public static void Reset() => Array.Clear(s_ticks);

    /// <summary>One line per stage: milliseconds and share.</summary>
    public static string Report()
    {
        double total = s_ticks.Sum();
        return string.Join(Environment.NewLine, Enumerable.Range(0, (int)Stage.Count).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{(Stage)i,-16} {s_ticks[i] * 1000.0 / Stopwatch.Frequency,9:F1} ms {(total > 0 ? s_ticks[i] / total : 0),6:P1}")));
    }
}
