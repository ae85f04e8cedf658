using Tq.Core.Tensors;

namespace Tq.Core.Models;

/// <summary>
/// The weights of one transformer layer: views into the mapped file, with norms and biases copied to floats. Which
/// members are set is the architecture's choice (<see cref="ModelArchitecture.LoadLayer"/>); the shared pieces of
/// <see cref="ForwardPass"/> use what is there.
/// </summary>
internal sealed class LayerWeights
{
    /// <summary>RMSNorm weight before attention.</summary>
    public float[] AttentionNorm { get; set; } = [];

    /// <summary>Q projection (unset when Q/K/V are fused).</summary>
    public WeightMatrix Query { get; set; }

    /// <summary>K projection (unset when fused).</summary>
    public WeightMatrix Key { get; set; }

    /// <summary>V projection (unset when fused).</summary>
    public WeightMatrix Value { get; set; }

    /// <summary>Q, K and V in one matrix <c>attn_qkv</c> (rows: Q, then K, then V), or null.</summary>
    public WeightMatrix? FusedQkv { get; set; }

    /// <summary>Q bias, if any.</summary>
    public float[]? QueryBias { get; set; }

    /// <summary>K bias, if any.</summary>
    public float[]? KeyBias { get; set; }

    /// <summary>V bias, if any.</summary>
    public float[]? ValueBias { get; set; }

    /// <summary>Per-head RMSNorm weight of the queries before RoPE (Qwen 3, Gemma 3), or null.</summary>
    public float[]? QueryNorm { get; set; }

    /// <summary>Per-head RMSNorm weight of the keys before RoPE, or null.</summary>
    public float[]? KeyNorm { get; set; }

    /// <summary>Attention output projection.</summary>
    public WeightMatrix Output { get; set; }

    /// <summary>Attention output bias, if any.</summary>
    public float[]? OutputBias { get; set; }

    /// <summary>RMSNorm of the attention output before the residual add (Gemma), or null.</summary>
    public float[]? PostAttentionNorm { get; set; }

    /// <summary>RMSNorm weight before the feed-forward network.</summary>
    public float[] FeedForwardNorm { get; set; } = [];

    /// <summary>Gate projection (unset when fused or MoE).</summary>
    public WeightMatrix Gate { get; set; }

    /// <summary>Up projection (unset when MoE).</summary>
    public WeightMatrix Up { get; set; }

    /// <summary>Gate and up in one matrix <c>ffn_up</c> of 2·FFN rows (gate first, Phi-3), or null.</summary>
    public WeightMatrix? FusedGateUp { get; set; }

    /// <summary>Down projection (unset when MoE).</summary>
    public WeightMatrix Down { get; set; }

    /// <summary>RMSNorm of the feed-forward output before the residual add (Gemma), or null.</summary>
    public float[]? PostFeedForwardNorm { get; set; }

    /// <summary>The MoE router <c>ffn_gate_inp</c> (experts × dim), or null for a dense layer.</summary>
    public WeightMatrix? Router { get; set; }

    /// <summary>Each expert's gate projection.</summary>
    public WeightMatrix[] ExpertGate { get; set; } = [];

    /// <summary>Each expert's up projection.</summary>
    public WeightMatrix[] ExpertUp { get; set; } = [];

    /// <summary>Each expert's down projection.</summary>
    public WeightMatrix[] ExpertDown { get; set; } = [];
}
