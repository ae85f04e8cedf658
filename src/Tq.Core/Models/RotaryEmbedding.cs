namespace Tq.Core.Models;

/// <summary>
/// Rotary position embedding as ggml computes it (<c>ggml_rope_ext</c>): the angle of pair i at position p is
/// θ = p·base^(−2i/n) / f_i (f_i a per-pair frequency factor: Llama 3 <c>rope_freqs</c>, LongRoPE short/long factors),
/// interpolated to s·θ (s the linear scale) and, with YaRN, mixed back towards θ on the fast-rotating pairs
/// (<c>rope_yarn</c>: ramp between the correction dimensions of β_fast and β_slow); cosine and sine are multiplied by
/// the magnitude scale (<c>attn_factor</c>, times 1 + 0.1·ln(1/s) under YaRN). Evaluated in single precision by
/// repeated multiplication exactly as ggml's <c>rope_cache_init</c>, so rotated keys match llama.cpp bit for bit in practice.
/// </summary>
/// <remarks>Immutable and thread-safe; caches (e.g. TurboQuant, which stores pre-RoPE keys) call it to rotate keys themselves.</remarks>
internal sealed class RotaryEmbedding
{
    private readonly float _thetaScale;
    private readonly float[]? _freqFactors;
    private readonly float _magnitude;
    private readonly float _corrLow;
    private readonly float _corrHigh;

    /// <summary>Creates the rotation for heads of <paramref name="headDim"/> values, rotating the first <paramref name="ropeDims"/>.</summary>
    /// <param name="style">The pairing of coordinates.</param>
    /// <param name="headDim">Values per head.</param>
    /// <param name="ropeDims">Rotated values per head.</param>
    /// <param name="freqBase">The frequency base.</param>
    /// <param name="freqScale">The linear position scale.</param>
    /// <param name="freqFactors">Per-pair divisors of the angle (GGUF <c>rope_freqs.weight</c>, Llama 3.1+), or null.</param>
    /// <param name="attnFactor">The magnitude scale of cosine and sine (<c>attn_factor</c>; LongRoPE's attention factor).</param>
    /// <param name="yarn">YaRN extrapolation settings, or null for none.</param>
    public RotaryEmbedding(RopeStyle style, int headDim, int ropeDims, float freqBase, float freqScale, float[]? freqFactors = null,
        float attnFactor = 1f, YarnSettings? yarn = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ropeDims);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ropeDims, headDim);
        if (ropeDims % 2 != 0)
        {
            throw new ArgumentException($"RoPE needs an even number of dimensions; {ropeDims} given.", nameof(ropeDims));
        }

        if (!(freqBase > 0) || !float.IsFinite(freqBase))
        {
            throw new ArgumentOutOfRangeException(nameof(freqBase), freqBase, "The RoPE frequency base must be positive and finite.");
        }

        if (!(freqScale > 0) || !float.IsFinite(freqScale))
        {
            throw new ArgumentOutOfRangeException(nameof(freqScale), freqScale, "The RoPE frequency scale must be positive and finite.");
        }

        if (freqFactors is not null && freqFactors.Length != ropeDims / 2)
        {
            throw new ArgumentException($"RoPE frequency factors need {ropeDims / 2} values (one per pair); {freqFactors.Length} given.", nameof(freqFactors));
        }

        if (!(attnFactor > 0) || !float.IsFinite(attnFactor))
        {
            throw new ArgumentOutOfRangeException(nameof(attnFactor), attnFactor, "The RoPE attention factor must be positive and finite.");
        }

        _freqFactors = freqFactors;
        Yarn = yarn;
        AttnFactor = attnFactor;
        _magnitude = attnFactor;
        if (yarn is not null)
        {
            // ggml_rope_yarn_corr_dims, in single precision as ggml.
            _corrLow = MathF.Max(0, MathF.Floor(CorrectionDim(ropeDims, yarn.OriginalContext, yarn.BetaFast, freqBase)));
            _corrHigh = MathF.Min(ropeDims - 1, MathF.Ceiling(CorrectionDim(ropeDims, yarn.OriginalContext, yarn.BetaSlow, freqBase)));
            _magnitude *= 1.0f + (0.1f * MathF.Log(1.0f / freqScale));
        }

        Style = style;
        HeadDim = headDim;
        RopeDims = ropeDims;
        FreqBase = freqBase;
        FreqScale = freqScale;
        _thetaScale = MathF.Pow(freqBase, -2.0f / ropeDims);
    }

    /// <summary>The pairing of coordinates.</summary>
    public RopeStyle Style { get; }

    /// <summary>Values per head.</summary>
    public int HeadDim { get; }

    /// <summary>Rotated values per head (the rest pass through).</summary>
    public int RopeDims { get; }

    /// <summary>The frequency base (<c>rope.freq_base</c>).</summary>
    public float FreqBase { get; }

    /// <summary>The linear position scale (1 / <c>rope.scaling.factor</c>).</summary>
    public float FreqScale { get; }

    /// <summary>The magnitude scale of cosine and sine before YaRN's own factor.</summary>
    public float AttnFactor { get; }

    /// <summary>YaRN settings, or null.</summary>
    public YarnSettings? Yarn { get; }

    /// <summary>Floats of one position's table: a cosine and a sine per rotated pair.</summary>
    public int TableLength => RopeDims;

    /// <summary>Fills <paramref name="table"/> with (cos, sin) of every pair's angle at <paramref name="position"/>.</summary>
    public void ComputeTable(int position, Span<float> table)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        if (table.Length < RopeDims)
        {
            throw new ArgumentException($"The table holds {table.Length} floats; {RopeDims} are needed.", nameof(table));
        }

        float theta = position;
        float ext = Yarn?.ExtFactor ?? 0f;
        for (int i = 0; i < RopeDims; i += 2)
        {
            float extrapolated = _freqFactors is null ? theta : theta / _freqFactors[i / 2];
            float angle = FreqScale * extrapolated;
            if (ext != 0)
            {
                // rope_yarn_ramp: i0/2 is an integer division in ggml.
                float y = ((i / 2) - _corrLow) / MathF.Max(0.001f, _corrHigh - _corrLow);
                float rampMix = (1 - MathF.Min(1, MathF.Max(0, y))) * ext;
                angle = (angle * (1 - rampMix)) + (extrapolated * rampMix);
            }

            table[i] = MathF.Cos(angle) * _magnitude;
            table[i + 1] = MathF.Sin(angle) * _magnitude;
            theta *= _thetaScale;
        }
    }

    private static float CorrectionDim(int dims, int originalContext, float rotations, float freqBase) =>
        dims * MathF.Log(originalContext / (rotations * 2 * MathF.PI)) / (2 * MathF.Log(freqBase));

    /// <summary>Rotates <paramref name="heads"/> consecutive head vectors in place with a table from <see cref="ComputeTable"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(Span<float> vectors, int heads, ReadOnlySpan<float> table)
    {
        if (vectors.Length < heads * HeadDim)
        {
            throw new ArgumentException($"The vectors hold {vectors.Length} floats; {heads} heads × {HeadDim} are needed.", nameof(vectors));
        }

        if (table.Length < RopeDims)
        {
            throw new ArgumentException($"The table holds {table.Length} floats; {RopeDims} are needed.", nameof(table));
        }

        int half = RopeDims / 2;
        for (int h = 0; h < heads; h++)
        {
            Span<float> x = vectors.Slice(h * HeadDim, HeadDim);
            if (Style == RopeStyle.Normal)
            {
                for (int i = 0; i < RopeDims; i += 2)
                {
                    float c = table[i], s = table[i + 1];
                    float x0 = x[i], x1 = x[i + 1];
                    x[i] = (x0 * c) - (x1 * s);
                    x[i + 1] = (x0 * s) + (x1 * c);
                }
            }
            else
            {
                for (int i = 0; i < half; i++)
                {
                    float c = table[2 * i], s = table[(2 * i) + 1];
                    float x0 = x[i], x1 = x[i + half];
                    x[i] = (x0 * c) - (x1 * s);
                    x[i + half] = (x0 * s) + (x1 * c);
                }
            }
        }
    }

    /// <summary>Rotates <paramref name="heads"/> head vectors in place for <paramref name="position"/> (computes the table on the stack).</summary>
    public void Apply(Span<float> vectors, int heads, int position)
    {
        Span<float> table = RopeDims <= 512 ? stackalloc float[RopeDims] : new float[RopeDims];
        ComputeTable(position, table);
        Apply(vectors, heads, table);
    }
}
