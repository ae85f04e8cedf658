using Tq.Core.Quantization;

namespace Tq.Core.Cache;

/// <summary>
/// The kind and settings of a session's KV cache. The defaults of the TurboQuant settings are the measured ones of
/// docs/kv-cache.md (K4/V2, post-RoPE keys, 4 FP16 sink tokens, an FP16 window of the most recent tokens).
/// </summary>
public sealed class KvCacheOptions
{
    /// <summary>Bits per value that mean "Q8_0 blocks" for <see cref="BitsK"/>, <see cref="BitsV"/> or <see cref="BoundaryBits"/>.</summary>
    public const double Q8Bits = 8;

    /// <summary>The cache kind; default <see cref="KvCacheKind.F16"/>.</summary>
    public KvCacheKind Kind { get; set; } = KvCacheKind.F16;

    /// <summary>TurboQuant bits per key coordinate: 2, 2.5, 3, 3.5, 4, or 8 (Q8_0 keys); default 4.</summary>
    public double BitsK { get; set; } = 4;

    /// <summary>TurboQuant bits per value coordinate: 2, 2.5, 3, 3.5, 4, or 8 (Q8_0 values); default 2.</summary>
    public double BitsV { get; set; } = 2;

    /// <summary>
    /// Keys as TurboQuant-prod: <see cref="BitsK"/> − 1 bits of Lloyd-Max codes plus a 1-bit QJL sketch of the residual
    /// (unbiased inner products, more variance). Needs integral <see cref="BitsK"/> of 2 to 4. Default off (measured worse).
    /// </summary>
    public bool KeyResidualQjl { get; set; }

    /// <summary>
    /// Sparse V: value rows whose softmax weight is below this are skipped (0, the default, keeps every row).
    /// Must be in [0, 0.1].
    /// </summary>
    public float SparseValueThreshold { get; set; }

    /// <summary>The first tokens of the sequence kept in FP16 (attention sinks); default 4.</summary>
    public int SinkTokens { get; set; } = 4;

    /// <summary>
    /// The most recent tokens kept in FP16, the current one included; older tokens are read from their codes. 0 reads
    /// even the current token from its codes (the naive cache, for measurements). Default 14: the window is the largest measured gain, and 14 is the most that keeps a 1,024-token cache of a head-dim-64 model within 1/4.5 of F16 by allocated process memory (docs/kv-cache.md).
    /// </summary>
    public int RecentWindow { get; set; } = 14;

    /// <summary>The first and the last this many layers use <see cref="BoundaryBits"/> for keys and values; default 0.</summary>
    public int BoundaryLayers { get; set; }

    /// <summary>Bits per coordinate of keys and values in boundary layers (as <see cref="BitsK"/>); default 8 (Q8_0).</summary>
    public double BoundaryBits { get; set; } = Q8Bits;

    /// <summary>Compress keys before RoPE (scores rotate the query per key position); default off (measured slower, not better here).</summary>
    public bool PreRopeKeys { get; set; }

    /// <summary>
    /// Store value norms as ‖v‖/‖v̂‖ so decoded values keep their norm (null: on, at every bit width; measured at V2:
    /// +0.14% instead of +0.26% perplexity, KLD 0.0020 instead of 0.0033). Internal: a measurement switch for docs/kv-cache.md.
    /// </summary>
    internal bool? ValueNormCorrection { get; set; }

    /// <summary>Seed of the random rotations.</summary>
    public ulong Seed { get; set; } = TurboQuantMseQuantizer.DefaultSeed;

    /// <summary>Options for a TurboQuant cache with the given key and value bits and every other setting at its default.</summary>
    public static KvCacheOptions TurboQuant(double bitsK = 4, double bitsV = 2) => new() { Kind = KvCacheKind.TurboQuant, BitsK = bitsK, BitsV = bitsV };

    /// <summary>A copy of these options.</summary>
    public KvCacheOptions Clone() => (KvCacheOptions)MemberwiseClone();

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its range (the message says which and why).</exception>
    /// <exception cref="ArgumentException">Settings contradict each other.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown KV-cache kind.");
        }

        CheckBits(BitsK, nameof(BitsK));
        CheckBits(BitsV, nameof(BitsV));
        CheckBits(BoundaryBits, nameof(BoundaryBits));
        if (KeyResidualQjl && (BitsK is not (2 or 3 or 4)))
        {
            throw new ArgumentException($"The QJL key residual needs BitsK of 2, 3 or 4 (b − 1 code bits plus 1 sign bit); BitsK is {BitsK}.", nameof(KeyResidualQjl));
        }

        if (!float.IsFinite(SparseValueThreshold) || SparseValueThreshold is < 0 or > 0.1f)
        {
            throw new ArgumentOutOfRangeException(nameof(SparseValueThreshold), SparseValueThreshold, "The sparse-V threshold must be between 0 (off) and 0.1.");
        }

        if (SinkTokens is < 0 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(SinkTokens), SinkTokens, "Sink tokens must be between 0 and 4096.");
        }

        if (RecentWindow is < 0 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(RecentWindow), RecentWindow, "The recent window must be between 0 (even the current token quantized) and 4096 tokens.");
        }

        if (BoundaryLayers is < 0 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(BoundaryLayers), BoundaryLayers, "Boundary layers must be between 0 and 1024.");
        }
    }

    private static void CheckBits(double bits, string name)
    {
        if (bits is not (2 or 2.5 or 3 or 3.5 or 4 or Q8Bits))
        {
            throw new ArgumentOutOfRangeException(name, bits, "Bits must be 2, 2.5, 3, 3.5, 4 or 8 (Q8_0).");
        }
    }
}
