namespace Tq.Core.Models;

/// <summary><c>qwen2</c> (Qwen 2/2.5), as llama.cpp's <c>models/qwen2.cpp</c>: the llama block with Q/K/V biases and NeoX RoPE.</summary>
internal sealed class Qwen2Architecture : ModelArchitecture
{
    /// <inheritdoc />
    public override string Name => "qwen2";

    /// <inheritdoc />
    public override RopeStyle RopeStyle => RopeStyle.NeoX;

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer) =>
        WithFeedForward(LoadAttention(tensors, d, layer, biases: true, qkNorm: false), tensors, d, layer);

    /// <inheritdoc />
    public override void Block(ref ForwardPass pass, LayerWeights w, int layer) => PreNormBlock(ref pass, w, layer);
}
