namespace Tq.Core.Models;

/// <summary>
/// <c>llama</c> (Llama 2/3.x, Mistral 7B/Nemo, Mixtral and other llama-shaped files), as llama.cpp's
/// <c>models/llama.cpp</c>: pre-norm blocks, adjacent-pair RoPE with Llama 3.1's optional <c>rope_freqs</c> factors
/// (or LongRoPE's short/long factors when <c>rope.scaling.type</c> is <c>longrope</c>), SwiGLU, or a softmax-routed
/// mixture of experts when <c>expert_count</c> &gt; 0 (Mixtral).
/// </summary>
internal sealed class LlamaArchitecture() : ModelArchitecture("llama", RopeStyle.Normal, usesExperts: true)
{
    /// <inheritdoc />
    public override void ReadHyperParameters(ModelHyperParameters hp)
    {
        // Mixtral: the experts' hidden size is feed_forward_length (llama.cpp reads no expert_feed_forward_length here).
        if (hp.ExpertCount > 0)
        {
            ReadSoftmaxExperts(hp, hp.Info.FeedForwardLength);
        }
    }

    /// <inheritdoc />
    public override RopeFactors LoadRopeFactors(TensorLoader tensors, ModelHyperParameters hp, int pairs) =>
        hp.RopeScaling == "longrope" ? LongRopeFactors(tensors, pairs) : new(tensors.OptionalVector("rope_freqs.weight", pairs), null, null);

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer)
    {
        LayerWeights w = LoadAttention(tensors, d, layer, biases: false, qkNorm: false);
        return d.Experts > 0 ? WithExperts(w, tensors, d, layer) : WithFeedForward(w, tensors, d, layer);
    }
}
