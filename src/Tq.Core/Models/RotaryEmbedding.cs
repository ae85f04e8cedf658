using System.Runtime.CompilerServices;

namespace Tq.Core.Models;

/// <summary>
/// Rotary position embedding as ggml computes it (<c>ggml_rope_ext</c> without YaRN extrapolation): the angle of pair
/// i at position p is p·s·base^(−2i/n), with s the linear scaling factor, evaluated in single precision by repeated
/// multiplication exactly as ggml's <c>rope_cache_init</c>, so rotated keys match llama.cpp bit for bit in practice.
/// </summary>
/// <remarks>Immutable and thread-safe; caches (e.g. TurboQuant, which stores pre-RoPE keys) call it to rotate keys themselves.</remarks>
internal sealed class RotaryEmbedding
{
    private readonly float _thetaScale;
    private readonly float[]? _freqFactors;

    /// <summary>Creates the rotation for heads of <paramref name="headDim"/> values, rotating the first <paramref name="ropeDims"/>.</summary>
    /// <param name="style">The pairing of coordinates.</param>
    /// <param name="headDim">Values per head.</param>
    /// <param name="ropeDims">Rotated values per head.</param>
    /// <param name="freqBase">The frequency base.</param>
    /// <param name="freqScale">The linear position scale.</param>
    /// <param name="freqFactors">Per-pair divisors of the angle (GGUF <c>rope_freqs.weight</c>, Llama 3.1+), or null.</param>
    public RotaryEmbedding(RopeStyle style, int headDim, int ropeDims, float freqBase, float freqScale, float[]? freqFactors = null)
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

        _freqFactors = freqFactors;
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
        for (int i = 0; i < RopeDims; i += 2)
        {
            float angle = FreqScale * (_freqFactors is null ? theta : theta / _freqFactors[i / 2]);
            table[i] = MathF.Cos(angle);
            table[i + 1] = MathF.Sin(angle);
            theta *= _thetaScale;
        }
    }

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
