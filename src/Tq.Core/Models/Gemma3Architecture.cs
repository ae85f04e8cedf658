namespace Tq.Core.Models;

/// <summary>
/// <c>gemma3</c> (text), as llama.cpp's <c>models/gemma3.cpp</c>: Gemma's sandwich block (<see cref="GemmaArchitecture"/>)
/// with per-head Q/K RMSNorm, no attention soft-capping, and (when <c>attention.sliding_window</c> is set) five sliding
/// layers to one global one, the sliding layers with their own RoPE base (<c>rope.freq_base_swa</c>) and no RoPE scaling.
/// </summary>
internal sealed class Gemma3Architecture() : GemmaArchitecture("gemma3", hasOutputTensor: true, queryKeyNorm: true, layersOf27B: 62)
{
    /// <inheritdoc />
    public override void ReadHyperParameters(ModelHyperParameters hp)
    {
        int window = hp.Int("attention.sliding_window", 0);
        if (window > 0)
        {
            hp.SlidingWindow = window;
            hp.SetSlidingPattern(6);
            hp.RopeFreqBaseSwa = hp.Float("rope.freq_base_swa", 10000f);
        }

        hp.FinalSoftCap = hp.Float("final_logit_softcapping", 0f);
        base.ReadHyperParameters(hp);
    }
}
