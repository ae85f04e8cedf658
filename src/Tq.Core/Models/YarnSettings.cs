namespace Tq.Core.Models;

/// <summary>YaRN context extension as ggml's rope applies it (llama.cpp's defaults: ext_factor 1, β_fast 32, β_slow 1).</summary>
/// <param name="OriginalContext">The context the model was trained for before the extension (<c>rope.scaling.original_context_length</c>).</param>
/// <param name="ExtFactor">The extrapolation mix (1 under YaRN).</param>
/// <param name="BetaFast">Rotations at which interpolation starts ramping (ggml <c>beta_fast</c>).</param>
/// <param name="BetaSlow">Rotations at which it is complete (ggml <c>beta_slow</c>).</param>
internal sealed record YarnSettings(int OriginalContext, float ExtFactor = 1f, float BetaFast = 32f, float BetaSlow = 1f);
