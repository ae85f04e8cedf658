namespace Tq.Core.Models;

/// <summary>
/// <c>qwen3moe</c> (Qwen3-30B-A3B, 235B-A22B), as llama.cpp's <c>models/qwen3moe.cpp</c>: Qwen 3 attention and a
/// mixture of experts in place of the dense FFN (softmax router, top-k, weights normalized to sum 1, SwiGLU experts).
/// </summary>
internal sealed class Qwen3MoeArchitecture : ModelArchitecture
{
    /// <inheritdoc />
    public override string Name => "qwen3moe";

    /// <inheritdoc />
    public override RopeStyle RopeStyle => RopeStyle.NeoX;

    /// <inheritdoc />
    public override bool UsesExperts => true;

    /// <inheritdoc />
    public override void ReadHyperParameters(ModelHyperParameters hp)
    {
        if (hp.ExpertCount <= 0 || hp.ExpertUsedCount <= 0 || hp.ExpertUsedCount > hp.ExpertCount)
        {
            throw hp.Refuse("expert_used_count", $"is {hp.ExpertUsedCount} of {hp.ExpertCount} experts; qwen3moe needs 1 to expert_count.");
        }

        // llama.cpp's qwen3moe always normalizes the chosen weights with softmax gating and no weight scale: a file
        // saying otherwise asks for math it would not get.
        if (!hp.Bool("expert_weights_norm", true))
        {
            throw hp.Refuse("expert_weights_norm", "is false; qwen3moe normalizes the chosen experts' weights.");
        }

        if (hp.Int("expert_gating_func", 1) != 1)
        {
            throw hp.Refuse("expert_gating_func", "is not softmax (1); qwen3moe routes with a softmax.");
        }

        if (hp.Float("expert_weights_scale", 0f) is not (0f or 1f))
        {
            throw hp.Refuse("expert_weights_scale", "scales expert weights, which qwen3moe does not.");
        }

        int ff = hp.Int("expert_feed_forward_length", 0);
        hp.ExpertFeedForwardLength = ff > 0 ? ff : hp.Info.FeedForwardLength / hp.ExpertUsedCount;
    }

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer)
    {
        LayerWeights w = LoadAttention(tensors, d, layer, biases: false, qkNorm: true);
        w.FeedForwardNorm = tensors.Vector(LayerTensor(layer, "ffn_norm.weight"), d.Dim);
        w.Router = tensors.Matrix(LayerTensor(layer, "ffn_gate_inp.weight"), d.Experts, d.Dim);
        w.ExpertGate = tensors.Experts(LayerTensor(layer, "ffn_gate_exps.weight"), d.Experts, d.ExpertFeedForward, d.Dim);
        w.ExpertUp = tensors.Experts(LayerTensor(layer, "ffn_up_exps.weight"), d.Experts, d.ExpertFeedForward, d.Dim);
        w.ExpertDown = tensors.Experts(LayerTensor(layer, "ffn_down_exps.weight"), d.Experts, d.Dim, d.ExpertFeedForward);
        return w;
    }

    /// <inheritdoc />
    public override void Block(ref ForwardPass pass, LayerWeights w, int layer)
    {
        pass.Norm(w.AttentionNorm);
        pass.Attention(w, layer);
        pass.AddToResidual();
        pass.Norm(w.FeedForwardNorm);
        pass.MixtureOfExperts(w);
        pass.AddToResidual();
    }
}
