using System.Diagnostics;
using System.Globalization;

namespace Tq.Core.Models;

/// <summary>
/// Optional wall-clock breakdown of one model's forward passes by stage (<see cref="Model"/> owns one, so two models
/// in a process, or two tests, never mix their counters), switched on with the environment variable
/// <c>TQ_PROFILE=1</c> (read when the model loads); off, each stage costs one branch. For finding where time goes, not
/// for figures.
/// </summary>
internal sealed class ForwardProfile
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

    private readonly long[] _ticks = new long[(int)Stage.Count];

    /// <summary>A profile that is on when <c>TQ_PROFILE=1</c>.</summary>
    public ForwardProfile()
        : this(Environment.GetEnvironmentVariable("TQ_PROFILE") == "1")
    {
    }

    /// <summary>A profile that is on when <paramref name="enabled"/>.</summary>
    public ForwardProfile(bool enabled) => Enabled = enabled;

    /// <summary>True when profiling is on.</summary>
    public bool Enabled { get; }

    /// <summary>A timestamp when profiling, else 0.</summary>
    public long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Adds the time since <paramref name="start"/> to <paramref name="stage"/> and returns a new start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Add(Stage stage, long start)
    {
        if (!Enabled)
        {
            return 0;
        }

        return Record(stage, start);
    }

    /// <summary>Clears the counters.</summary>
    public void Reset() => Array.Clear(_ticks);

    /// <summary>One line per stage: milliseconds and share.</summary>
    public string Report()
    {
        double total = _ticks.Sum();
        return string.Join(Environment.NewLine, Enumerable.Range(0, (int)Stage.Count).Select(i => string.Create(CultureInfo.InvariantCulture,
            $"{(Stage)i,-16} {_ticks[i] * 1000.0 / Stopwatch.Frequency,9:F1} ms {(total > 0 ? _ticks[i] / total : 0),6:P1}")));
    }

    private long Record(Stage stage, long start)
    {
        long now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _ticks[(int)stage], now - start);
        return now;
    }
}
