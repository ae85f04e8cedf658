namespace Tq.Core.Models;

/// <summary>Per-pair RoPE frequency factors a file holds (ggml's <c>freq_factors</c>).</summary>
/// <param name="Fixed">Factors for every context (Llama 3.1+ <c>rope_freqs.weight</c>), or null.</param>
/// <param name="Short">LongRoPE factors for contexts up to the original length (<c>rope_factors_short.weight</c>), or null.</param>
/// <param name="Long">LongRoPE factors for longer contexts (<c>rope_factors_long.weight</c>), or null.</param>
internal readonly record struct RopeFactors(float[]? Fixed, float[]? Short, float[]? Long)
{
    /// <summary>
    /// The factors for a sequence of <paramref name="context"/> tokens, as llama.cpp's <c>get_rope_factors</c>: the fixed
    /// ones if any, else the long ones when the sequence's context exceeds <paramref name="originalContext"/>, else the
    /// short ones. llama.cpp pads every sequence's context to a multiple of 256 first (<c>n_ctx_seq</c>), and so do we:
    /// a 128-token context of a model trained on 128 already takes the long factors there.
    /// </summary>
    public float[]? For(int context, int originalContext) => Fixed ?? (PaddedContext(context) > originalContext ? Long : Short);

    /// <summary>llama.cpp's <c>n_ctx_seq</c> for a context of <paramref name="context"/> tokens: rounded up to a multiple of 256.</summary>
    public static int PaddedContext(int context) => (int)Math.Min(int.MaxValue, ((long)context + 255) / 256 * 256);
}
