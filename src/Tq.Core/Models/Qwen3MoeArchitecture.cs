namespace Tq.Core.Models;

/// <summary>
/// <c>qwen3moe</c> (Qwen3-30B-A3B, 235B-A22B), as llama.cpp's <c>models/qwen3moe.cpp</c>: Qwen 3 attention and a
/// mixture of experts in place of the dense FFN (softmax router, top-k, weights normalized to sum 1, SwiGLU experts).
/// </summary>
internal sealed class Qwen3MoeArchitecture() : ModelArchitecture("qwen3moe", RopeStyle.NeoX, usesExperts: true)
{
    /// <inheritdoc />
    public override void ReadHyperParameters(ModelHyperParameters hp)
    {
        int ff = hp.Int("expert_feed_forward_length", 0);
        ReadSoftmaxExperts(hp, ff > 0 ? ff : hp.Info.FeedForwardLength / Math.Max(1, hp.ExpertUsedCount));
    }

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer) =>
        WithExperts(LoadAttention(tensors, d, layer, biases: false, qkNorm: true), tensors, d, layer);
}
