namespace Tq.Core.Models;

/// <summary>
/// <c>phi3</c> (Phi-3, Phi-3.5, Phi-4-mini), as llama.cpp's <c>models/phi3.cpp</c>: fused QKV and gate/up matrices,
/// NeoX RoPE with LongRoPE's short/long factors chosen by context length and its attention factor, queries scaled by
/// 1/√d before attention.
/// </summary>
internal sealed class Phi3Architecture() : ModelArchitecture("phi3", RopeStyle.NeoX)
{
    /// <inheritdoc />
    public override void ReadHyperParameters(ModelHyperParameters hp)
    {
        // llama.cpp disables Phi's sliding window (it warns and attends to everything); so do we.
        _ = hp.Int("attention.sliding_window", 0);
        hp.QueryScale = 1.0f / MathF.Sqrt(hp.Info.KeyLength);
    }

    /// <inheritdoc />
    public override RopeFactors LoadRopeFactors(TensorLoader tensors, ModelHyperParameters hp, int pairs) => LongRopeFactors(tensors, pairs);

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer)
    {
        string N(string suffix) => LayerTensor(layer, suffix);
        return new LayerWeights
        {
            AttentionNorm = tensors.Vector(N("attn_norm.weight"), d.Dim),
            FusedQkv = tensors.Matrix(N("attn_qkv.weight"), d.QDim + d.KvDim + d.VDim, d.Dim),
            Output = tensors.Matrix(N("attn_output.weight"), d.Dim, d.AttentionDim),
            FeedForwardNorm = tensors.Vector(N("ffn_norm.weight"), d.Dim),
            FusedGateUp = tensors.Matrix(N("ffn_up.weight"), 2 * d.FeedForward, d.Dim),
            Down = tensors.Matrix(N("ffn_down.weight"), d.Dim, d.FeedForward),
        };
    }
}
