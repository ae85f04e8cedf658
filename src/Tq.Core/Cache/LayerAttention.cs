using Tq.Core.Models;

namespace Tq.Core.Cache;

/// <summary>
/// How one layer attends: the RoPE its keys carry, the score scale, the logit soft-cap and the sliding window.
/// Scores are computed as ggml's flash attention does: s = ⟨q, k⟩·<see cref="Scale"/>, then
/// s = c·tanh(s / c) when the soft-cap c is set; a key more than <see cref="SlidingWindow"/> − 1 positions before the
/// query is masked out.
/// </summary>
/// <param name="Rope">The rotation applied to this layer's queries and keys.</param>
/// <param name="Scale">The factor of ⟨q, k⟩ (1/√d, or 1 when the model scales the queries itself).</param>
/// <param name="SoftCap">The logit soft-cap (Gemma 2: 50), or 0 for none.</param>
/// <param name="SlidingWindow">Keys visible to a query, itself included (Gemma: 4096, 1024, 512...), or 0 for all.</param>
internal sealed record LayerAttention(RotaryEmbedding Rope, float Scale, float SoftCap, int SlidingWindow)
{
    /// <summary>Whether the layer attends to a sliding window only.</summary>
    public bool IsSliding => SlidingWindow > 0;

    /// <summary>The first position a query at <paramref name="position"/> sees.</summary>
    public int FirstVisible(int position) => IsSliding ? Math.Max(0, position - SlidingWindow + 1) : 0;

    /// <summary>
    /// The scale applied before the soft-cap's tanh (ggml folds 1/c into the scale), so a score is
    /// <c>c·tanh(dot·PreScale)</c> with a soft-cap and <c>dot·PreScale</c> without.
    /// </summary>
    public float PreScale => SoftCap != 0 ? Scale / SoftCap : Scale;

    /// <summary>The final score of a dot product <paramref name="dot"/>.</summary>
    public float Score(float dot) => SoftCap != 0 ? SoftCap * MathF.Tanh(dot * PreScale) : dot * PreScale;
}
