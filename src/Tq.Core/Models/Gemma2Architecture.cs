namespace Tq.Core.Models;

/// <summary>
/// <c>gemma2</c>, as llama.cpp's <c>models/gemma2.cpp</c>: embeddings × √dim, sandwich norms around attention and a
/// tanh-GELU GeGLU, attention logit soft-capping, a sliding window on alternate layers (even layers slide), queries
/// scaled before attention, final logit soft-capping, output tied to the embedding.
/// </summary>
internal sealed class Gemma2Architecture : ModelArchitecture
{
    /// <inheritdoc />
    public override string Name => "gemma2";

    /// <inheritdoc />
    public override RopeStyle RopeStyle => RopeStyle.NeoX;

    /// <inheritdoc />
    public override bool HasOutputTensor => false;

    /// <inheritdoc />
    public override void ReadHyperParameters(ModelHyperParameters hp)
    {
        hp.SlidingWindow = hp.Int("attention.sliding_window", 4096);
        hp.SetSlidingPattern(2);
        hp.RopeFreqBaseSwa = hp.Float("rope.freq_base_swa", hp.RopeFreqBase);
        hp.RopeFreqScaleSwa = hp.RopeFreqScale;
        hp.AttentionSoftCap = hp.Float("attn_logit_softcapping", 50f);
        hp.FinalSoftCap = hp.Float("final_logit_softcapping", 30f);
        hp.EmbeddingScale = MathF.Sqrt(hp.Info.EmbeddingLength);
        hp.QueryScale = GemmaQueryScale(hp, layersOf27B: 46);
    }

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer)
    {
        LayerWeights w = WithFeedForward(LoadAttention(tensors, d, layer, biases: false, qkNorm: false), tensors, d, layer);
        w.PostAttentionNorm = tensors.Vector(LayerTensor(layer, "post_attention_norm.weight"), d.Dim);
        w.PostFeedForwardNorm = tensors.Vector(LayerTensor(layer, "post_ffw_norm.weight"), d.Dim);
        return w;
    }

    /// <inheritdoc />
    public override void Block(ref ForwardPass pass, LayerWeights w, int layer) => SandwichBlock(ref pass, w, layer);
}
