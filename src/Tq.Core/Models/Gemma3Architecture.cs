namespace Tq.Core.Models;

/// <summary>
/// <c>gemma3</c> (text), as llama.cpp's <c>models/gemma3.cpp</c>: Gemma 2's sandwich block with per-head Q/K RMSNorm,
/// no attention soft-capping, and (when <c>attention.sliding_window</c> is set) five sliding layers to one global one,
/// the sliding layers with their own RoPE base (<c>rope.freq_base_swa</c>) and no RoPE scaling.
/// </summary>
internal sealed class Gemma3Architecture : ModelArchitecture
{
    /// <inheritdoc />
    public override string Name => "gemma3";

    /// <inheritdoc />
    public override RopeStyle RopeStyle => RopeStyle.NeoX;

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
        hp.EmbeddingScale = MathF.Sqrt(hp.Info.EmbeddingLength);
        hp.QueryScale = GemmaQueryScale(hp, layersOf27B: 62);
    }

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer)
    {
        LayerWeights w = WithFeedForward(LoadAttention(tensors, d, layer, biases: false, qkNorm: true), tensors, d, layer);
        w.PostAttentionNorm = tensors.Vector(LayerTensor(layer, "post_attention_norm.weight"), d.Dim);
        w.PostFeedForwardNorm = tensors.Vector(LayerTensor(layer, "post_ffw_norm.weight"), d.Dim);
        return w;
    }

    /// <inheritdoc />
    public override void Block(ref ForwardPass pass, LayerWeights w, int layer) => SandwichBlock(ref pass, w, layer);
}
