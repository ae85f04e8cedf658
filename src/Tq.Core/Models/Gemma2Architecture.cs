namespace Tq.Core.Models;

/// <summary>
/// <c>gemma2</c>, as llama.cpp's <c>models/gemma2.cpp</c>: Gemma's sandwich block (<see cref="GemmaArchitecture"/>)
/// with attention logit soft-capping, a sliding window on alternate layers (even layers slide), final logit
/// soft-capping, output tied to the embedding.
/// </summary>
internal sealed class Gemma2Architecture() : GemmaArchitecture("gemma2", hasOutputTensor: false, queryKeyNorm: false, layersOf27B: 46)
{
    /// <inheritdoc />
    public override void ReadHyperParameters(ModelHyperParameters hp)
    {
        hp.SlidingWindow = hp.Int("attention.sliding_window", 4096);
        hp.SetSlidingPattern(2);
        hp.RopeFreqBaseSwa = hp.Float("rope.freq_base_swa", hp.RopeFreqBase);
        hp.RopeFreqScaleSwa = hp.RopeFreqScale;
        hp.AttentionSoftCap = hp.Float("attn_logit_softcapping", 50f);
        hp.FinalSoftCap = hp.Float("final_logit_softcapping", 30f);
        base.ReadHyperParameters(hp);
    }
}
