namespace Tq.Core.Models;

/// <summary><c>qwen3</c>, as llama.cpp's <c>models/qwen3.cpp</c>: the llama block with per-head RMSNorm of Q and K before NeoX RoPE, no biases.</summary>
internal sealed class Qwen3Architecture : ModelArchitecture
{
    /// <inheritdoc />
    public override string Name => "qwen3";

    /// <inheritdoc />
    public override RopeStyle RopeStyle => RopeStyle.NeoX;

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer) =>
        WithFeedForward(LoadAttention(tensors, d, layer, biases: false, qkNorm: true), tensors, d, layer);

    /// <inheritdoc />
    public override void Block(ref ForwardPass pass, LayerWeights w, int layer) => PreNormBlock(ref pass, w, layer);
}
