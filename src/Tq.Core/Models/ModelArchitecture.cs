using System.Globalization;

namespace Tq.Core.Models;

/// <summary>
/// What distinguishes one decoder-only architecture from another for the shared forward pass: RoPE pairing, whether
/// Q/K/V carry biases, whether Q/K/V and gate/up are fused into one tensor, and the GGUF tensor names.
/// </summary>
internal sealed class ModelArchitecture
{
    private ModelArchitecture(string name, RopeStyle ropeStyle, bool qkvBias, bool fusedQkv, bool fusedGateUp)
    {
        Name = name;
        RopeStyle = ropeStyle;
        HasQkvBias = qkvBias;
        FusedQkv = fusedQkv;
        FusedGateUp = fusedGateUp;
    }

    /// <summary>llama (and llama-shaped models): normal RoPE, separate Q/K/V and gate/up, no biases.</summary>
    public static ModelArchitecture Llama { get; } = new("llama", RopeStyle.Normal, qkvBias: false, fusedQkv: false, fusedGateUp: false);

    /// <summary>qwen2: NeoX RoPE and biases on Q, K and V.</summary>
    public static ModelArchitecture Qwen2 { get; } = new("qwen2", RopeStyle.NeoX, qkvBias: true, fusedQkv: false, fusedGateUp: false);

    /// <summary>phi3: NeoX RoPE, one fused QKV matrix and one fused gate/up matrix (gate first).</summary>
    public static ModelArchitecture Phi3 { get; } = new("phi3", RopeStyle.NeoX, qkvBias: false, fusedQkv: true, fusedGateUp: true);

    /// <summary>The supported architectures.</summary>
    public static IReadOnlyList<ModelArchitecture> Supported { get; } = [Llama, Qwen2, Phi3];

    /// <summary>The <c>general.architecture</c> value.</summary>
    public string Name { get; }

    /// <summary>The RoPE pairing.</summary>
    public RopeStyle RopeStyle { get; }

    /// <summary>Q, K and V have bias vectors (<c>attn_q.bias</c>...).</summary>
    public bool HasQkvBias { get; }

    /// <summary>Q, K and V are one matrix <c>attn_qkv.weight</c> (rows: Q, then K, then V).</summary>
    public bool FusedQkv { get; }

    /// <summary>Gate and up are one matrix <c>ffn_up.weight</c> of 2·FFN rows (gate first).</summary>
    public bool FusedGateUp { get; }

    /// <summary>The architecture named <paramref name="name"/>.</summary>
    /// <exception cref="NotSupportedException">The architecture is not supported; the message lists those that are.</exception>
    public static ModelArchitecture ForName(string name) =>
        Supported.FirstOrDefault(a => a.Name == name)
        ?? throw new NotSupportedException($"Architecture '{name}' is not supported; supported architectures: {string.Join(", ", Supported.Select(a => a.Name))}.");

    /// <summary>The GGUF name of a tensor of layer <paramref name="layer"/>, e.g. <c>blk.3.attn_q.weight</c>.</summary>
    public static string LayerTensor(int layer, string suffix) => string.Create(CultureInfo.InvariantCulture, $"blk.{layer}.{suffix}");
}
