namespace Tq.Core.Models;

/// <summary>
/// The dense Qwen architectures, one definition with two settings, as llama.cpp's <c>models/qwen2.cpp</c> and
/// <c>models/qwen3.cpp</c>: the llama block with NeoX RoPE; <c>qwen2</c> (Qwen 2/2.5) has Q/K/V biases, <c>qwen3</c> a
/// per-head RMSNorm of Q and K before RoPE and no biases.
/// </summary>
internal sealed class QwenArchitecture : ModelArchitecture
{
    private readonly bool _biases;
    private readonly bool _queryKeyNorm;

    private QwenArchitecture(string name, bool biases, bool queryKeyNorm)
        : base(name, RopeStyle.NeoX)
    {
        _biases = biases;
        _queryKeyNorm = queryKeyNorm;
    }

    /// <summary><c>qwen2</c>: Q/K/V biases.</summary>
    public static QwenArchitecture Qwen2 { get; } = new("qwen2", biases: true, queryKeyNorm: false);

    /// <summary><c>qwen3</c>: Q/K norms, no biases.</summary>
    public static QwenArchitecture Qwen3 { get; } = new("qwen3", biases: false, queryKeyNorm: true);

    /// <inheritdoc />
    public override LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer) =>
        WithFeedForward(LoadAttention(tensors, d, layer, _biases, _queryKeyNorm), tensors, d, layer);
}
