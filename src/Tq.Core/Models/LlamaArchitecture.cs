namespace Tq.Core.Models;

/// <summary>
/// <c>llama</c> (Llama 2/3.x, Mistral, and other llama-shaped files), as llama.cpp's <c>models/llama.cpp</c>: pre-norm
/// blocks, adjacent-pair RoPE with Llama 3.1's optional <c>rope_freqs</c> factors, SwiGLU.
/// </summary>
internal sealed class LlamaArchitecture : ModelArchitecture
{
    /// <inheritdoc />
    public override string Name => "llama";

    /// <inheritdoc />
    public override RopeStyle RopeStyle => RopeStyle.Normal;

    /// <inheritdoc />
    public override RopeFactors LoadRopeFactors(TensorLoader tensors, int pairs) =>
        new(tensors.OptionalVector("rope_freqs.weight", pairs), null, null);

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer) =>
        WithFeedForward(LoadAttention(tensors, d, layer, biases: false, qkNorm: false), tensors, d, layer);

    /// <inheritdoc />
    public override void Block(ref ForwardPass pass, LayerWeights w, int layer) => PreNormBlock(ref pass, w, layer);
}
