namespace Tq.Core.Models;

/// <summary>
/// What Gemma 2 and Gemma 3 share, as llama.cpp's <c>models/gemma2.cpp</c> and <c>gemma3.cpp</c>: NeoX RoPE, layers
/// with sandwich norms (post-attention and post-FFN RMSNorm) around attention and a tanh-GELU GeGLU, embeddings scaled
/// by √dim and Gemma's query scale; each version reads its own windows, soft-caps and Q/K norms.
/// </summary>
/// <param name="name">The <c>general.architecture</c> value.</param>
/// <param name="hasOutputTensor">Whether the output head may be its own tensor.</param>
/// <param name="queryKeyNorm">Whether layers hold per-head RMSNorms of Q and K (Gemma 3).</param>
/// <param name="layersOf27B">The layer count of the version's 27B model (its attention scale differs, as llama.cpp's).</param>
internal abstract class GemmaArchitecture(string name, bool hasOutputTensor, bool queryKeyNorm, int layersOf27B)
    : ModelArchitecture(name, RopeStyle.NeoX, hasOutputTensor: hasOutputTensor)
{
    /// <summary>Whether layers hold per-head RMSNorms of Q and K (Gemma 3).</summary>
    protected bool QueryKeyNorm { get; } = queryKeyNorm;

    /// <summary>The layer count of the version's 27B model (its attention scale differs, as llama.cpp's).</summary>
    protected int LayersOf27B { get; } = layersOf27B;

    /// <inheritdoc />
    public override void ReadHyperParameters(ModelHyperParameters hp)
    {
        hp.EmbeddingScale = MathF.Sqrt(hp.Info.EmbeddingLength);
        hp.QueryScale = GemmaQueryScale(hp, LayersOf27B);
    }

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer)
    {
        LayerWeights w = WithFeedForward(LoadAttention(tensors, d, layer, biases: false, qkNorm: QueryKeyNorm), tensors, d, layer);
        w.PostAttentionNorm = tensors.Vector(LayerTensor(layer, "post_attention_norm.weight"), d.Dim);
        w.PostFeedForwardNorm = tensors.Vector(LayerTensor(layer, "post_ffw_norm.weight"), d.Dim);
        return w;
    }

    /// <inheritdoc />
    public override void Block(ref ForwardPass pass, LayerWeights w, int layer) => SandwichBlock(ref pass, w, layer);

    /// <summary>Gemma's sandwich block: x += postnorm(attn(norm(x))); x += postnorm(geglu(norm(x))).</summary>
    private static void SandwichBlock(ref ForwardPass pass, LayerWeights w, int layer)
    {
        pass.Norm(w.AttentionNorm);
        pass.Attention(w, layer);
        pass.AddNormalizedToResidual(w.PostAttentionNorm!);
        pass.Norm(w.FeedForwardNorm);
        pass.FeedForward(w, FeedForwardActivation.GeluTanh);
        pass.AddNormalizedToResidual(w.PostFeedForwardNorm!);
    }

    // 1/√(dim/heads) for the 27B models (query_pre_attn_scalar), else 1/√(head dim), as llama.cpp.
    private static float GemmaQueryScale(ModelHyperParameters hp, int layersOf27B) =>
        hp.Info.BlockCount == layersOf27B
            ? 1.0f / MathF.Sqrt((float)(hp.Info.EmbeddingLength / hp.Info.HeadCount))
            : 1.0f / MathF.Sqrt(hp.Info.KeyLength);
}
