using Tq.Core.Models;

namespace Tq.Core.Cache;

/// <summary>
/// How one layer attends: the RoPE its keys carry, the score scale, the logit soft-cap and the sliding window.
/// Scores are computed as ggml's flash attention does: s = ⟨q, k⟩·<see cref="Scale"/>, then s = c·tanh(s / c) when
/// the soft-cap c is set (ggml folds 1/c into the scale: <see cref="PreScale"/>); a key more than
/// <see cref="SlidingWindow"/> − 1 positions before the query is masked out.
/// </summary>
internal sealed class LayerAttention
{
    /// <summary>Creates the attention of one layer.</summary>
    /// <param name="rope">The rotation applied to this layer's queries and keys.</param>
    /// <param name="scale">The factor of ⟨q, k⟩ (1/√d, or 1 when the model scales the queries itself).</param>
    /// <param name="softCap">The logit soft-cap (Gemma 2: 50), or 0 for none.</param>
    /// <param name="slidingWindow">Keys visible to a query, itself included (Gemma: 4096, 1024, 512...), or 0 for all.</param>
    public LayerAttention(RotaryEmbedding rope, float scale, float softCap, int slidingWindow)
    {
        ArgumentNullException.ThrowIfNull(rope);
        ArgumentOutOfRangeException.ThrowIfNegative(slidingWindow);
        if (!(scale > 0) || !float.IsFinite(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The attention scale must be positive and finite.");
        }

        if (softCap < 0 || !float.IsFinite(softCap))
        {
            throw new ArgumentOutOfRangeException(nameof(softCap), softCap, "The attention soft-cap must be 0 (none) or positive.");
        }

        Rope = rope;
        Scale = scale;
        SoftCap = softCap;
        SlidingWindow = slidingWindow;
        PreScale = softCap != 0 ? scale / softCap : scale;
    }

    /// <summary>The rotation applied to this layer's queries and keys.</summary>
    public RotaryEmbedding Rope { get; }

    /// <summary>The factor of ⟨q, k⟩.</summary>
    public float Scale { get; }

    /// <summary>The logit soft-cap, or 0.</summary>
    public float SoftCap { get; }

    /// <summary>Keys visible to a query (itself included), or 0 for all.</summary>
    public int SlidingWindow { get; }

    /// <summary>The factor applied before the soft-cap's tanh (<see cref="Scale"/> / cap), or <see cref="Scale"/> without a cap.</summary>
    public float PreScale { get; }

    /// <summary>Whether the layer attends to a sliding window only.</summary>
    public bool IsSliding => SlidingWindow > 0;

    /// <summary>The first position a query at <paramref name="position"/> sees.</summary>
    public int FirstVisible(int position) => IsSliding ? Math.Max(0, position - SlidingWindow + 1) : 0;

    /// <summary>The final score of a dot product <paramref name="dot"/>.</summary>
    public float Score(float dot) => SoftCap != 0 ? SoftCap * MathF.Tanh(dot * PreScale) : dot * PreScale;
}
