using System.Globalization;

namespace Tq.Core.Models;

/// <summary>
/// One decoder-only architecture, as llama.cpp's <c>src/models/&lt;arch&gt;.cpp</c>: the hyper-parameters it reads
/// (<see cref="ReadHyperParameters"/>), the tensors of a layer, required or optional (<see cref="LoadLayer"/>), and
/// the block wiring (<see cref="Block"/>) built from the shared pieces of <see cref="ForwardPass"/>. Adding an
/// architecture is one subclass plus its entry in <see cref="Supported"/>. Anything a file holds that no definition
/// reads (a metadata key, a tensor) is refused at load.
/// </summary>
/// <param name="name">The <c>general.architecture</c> value.</param>
/// <param name="ropeStyle">The RoPE pairing.</param>
/// <param name="usesExperts">Whether layers may be mixtures of experts.</param>
/// <param name="hasOutputTensor">Whether the output head may be its own tensor.</param>
internal abstract class ModelArchitecture(string name, RopeStyle ropeStyle, bool usesExperts = false, bool hasOutputTensor = true)
{
    /// <summary>The supported architectures.</summary>
    public static IReadOnlyList<ModelArchitecture> Supported { get; } =
    [
        new LlamaArchitecture(), QwenArchitecture.Qwen2, QwenArchitecture.Qwen3, new Qwen3MoeArchitecture(),
        new Phi3Architecture(), new Gemma2Architecture(), new Gemma3Architecture(),
    ];

    /// <summary>The <c>general.architecture</c> value.</summary>
    public string Name { get; } = name;

    /// <summary>The RoPE pairing.</summary>
    public RopeStyle RopeStyle { get; } = ropeStyle;

    /// <summary>Whether layers may be mixtures of experts (<c>expert_count</c> &gt; 0 is refused otherwise).</summary>
    public bool UsesExperts { get; } = usesExperts;

    /// <summary>Whether the output head may be its own tensor <c>output.weight</c> (else it is always the embedding).</summary>
    public bool HasOutputTensor { get; } = hasOutputTensor;

    /// <summary>The architecture named <paramref name="name"/>.</summary>
    /// <exception cref="NotSupportedException">The architecture is not supported; the message lists those that are.</exception>
    public static ModelArchitecture ForName(string name) =>
        Supported.FirstOrDefault(a => a.Name == name)
        ?? throw new NotSupportedException($"Architecture '{name}' is not supported; supported architectures: {string.Join(", ", Supported.Select(a => a.Name))}.");

    /// <summary>The GGUF name of a tensor of layer <paramref name="layer"/>, e.g. <c>blk.3.attn_q.weight</c>.</summary>
    public static string LayerTensor(int layer, string suffix) => string.Create(CultureInfo.InvariantCulture, $"blk.{layer}.{suffix}");

    /// <summary>Reads the architecture's own metadata keys into <paramref name="hp"/> (llama.cpp's <c>load_arch_hparams</c>).</summary>
    public virtual void ReadHyperParameters(ModelHyperParameters hp)
    {
    }

    /// <summary>The per-pair RoPE frequency factors the file holds: Llama 3's, or LongRoPE's short and long ones.</summary>
    public virtual RopeFactors LoadRopeFactors(TensorLoader tensors, ModelHyperParameters hp, int pairs) => default;

    /// <summary>The tensors of layer <paramref name="layer"/> (llama.cpp's <c>load_arch_tensors</c>).</summary>
    public abstract LayerWeights LoadLayer(TensorLoader tensors, ModelDimensions d, int layer);

    /// <summary>
    /// Runs layer <paramref name="layer"/> on the pass's residual stream (llama.cpp's graph, one layer); the pre-norm
    /// block of Llama, Qwen and Phi-3 unless the architecture wires its own.
    /// </summary>
    public virtual void Block(ref ForwardPass pass, LayerWeights w, int layer) => PreNormBlock(ref pass, w, layer);

    /// <summary>Attention with separate Q, K and V projections and the output projection, plus optional biases and Q/K norms.</summary>
    protected static LayerWeights LoadAttention(TensorLoader t, ModelDimensions d, int layer, bool biases, bool qkNorm)
    {
        string N(string suffix) => LayerTensor(layer, suffix);
        return new LayerWeights
        {
            AttentionNorm = t.Vector(N("attn_norm.weight"), d.Dim),
            Query = t.Matrix(N("attn_q.weight"), d.QDim, d.Dim),
            Key = t.Matrix(N("attn_k.weight"), d.KvDim, d.Dim),
            Value = t.Matrix(N("attn_v.weight"), d.VDim, d.Dim),
            QueryBias = biases ? t.Vector(N("attn_q.bias"), d.QDim) : null,
            KeyBias = biases ? t.Vector(N("attn_k.bias"), d.KvDim) : null,
            ValueBias = biases ? t.Vector(N("attn_v.bias"), d.VDim) : null,
            QueryNorm = qkNorm ? t.Vector(N("attn_q_norm.weight"), d.KeyLength) : null,
            KeyNorm = qkNorm ? t.Vector(N("attn_k_norm.weight"), d.KeyLength) : null,
            Output = t.Matrix(N("attn_output.weight"), d.Dim, d.AttentionDim),
        };
    }

    /// <summary>Adds the FFN norm and the gate, up and down projections of a dense SwiGLU/GeGLU network.</summary>
    protected static LayerWeights WithFeedForward(LayerWeights w, TensorLoader t, ModelDimensions d, int layer)
    {
        w.FeedForwardNorm = t.Vector(LayerTensor(layer, "ffn_norm.weight"), d.Dim);
        w.Gate = t.Matrix(LayerTensor(layer, "ffn_gate.weight"), d.FeedForward, d.Dim);
        w.Up = t.Matrix(LayerTensor(layer, "ffn_up.weight"), d.FeedForward, d.Dim);
        w.Down = t.Matrix(LayerTensor(layer, "ffn_down.weight"), d.Dim, d.FeedForward);
        return w;
    }

    /// <summary>LongRoPE's short and long factors (<c>rope_factors_short/long.weight</c>), each optional.</summary>
    protected static RopeFactors LongRopeFactors(TensorLoader t, int pairs) =>
        new(null, t.OptionalVector("rope_factors_short.weight", pairs), t.OptionalVector("rope_factors_long.weight", pairs));

    /// <summary>
    /// Validates the MoE settings as llama.cpp's softmax-gated <c>build_moe_ffn</c> with normalized weights computes
    /// them: a file asking for another gating, unnormalized or scaled weights is refused.
    /// </summary>
    protected static void ReadSoftmaxExperts(ModelHyperParameters hp, int expertFeedForward)
    {
        if (hp.ExpertCount <= 0 || hp.ExpertUsedCount <= 0 || hp.ExpertUsedCount > hp.ExpertCount)
        {
            throw hp.Refuse("expert_used_count", $"is {hp.ExpertUsedCount} of {hp.ExpertCount} experts; 1 to expert_count are needed.");
        }

        if (!hp.Bool("expert_weights_norm", true))
        {
            throw hp.Refuse("expert_weights_norm", "is false; this definition normalizes the chosen experts' weights.");
        }

        if (hp.Int("expert_gating_func", 1) != 1)
        {
            throw hp.Refuse("expert_gating_func", "is not softmax (1); this definition routes with a softmax.");
        }

        if (hp.Float("expert_weights_scale", 0f) is not (0f or 1f))
        {
            throw hp.Refuse("expert_weights_scale", "scales expert weights, which this definition does not.");
        }

        hp.ExpertFeedForwardLength = expertFeedForward;
    }

    /// <summary>Adds the FFN norm, the router and the stacked gate, up and down projections of every expert.</summary>
    protected static LayerWeights WithExperts(LayerWeights w, TensorLoader t, ModelDimensions d, int layer)
    {
        w.FeedForwardNorm = t.Vector(LayerTensor(layer, "ffn_norm.weight"), d.Dim);
        w.Router = t.Matrix(LayerTensor(layer, "ffn_gate_inp.weight"), d.Experts, d.Dim);
        w.ExpertGate = t.Experts(LayerTensor(layer, "ffn_gate_exps.weight"), d.Experts, d.ExpertFeedForward, d.Dim);
        w.ExpertUp = t.Experts(LayerTensor(layer, "ffn_up_exps.weight"), d.Experts, d.ExpertFeedForward, d.Dim);
        w.ExpertDown = t.Experts(LayerTensor(layer, "ffn_down_exps.weight"), d.Experts, d.Dim, d.ExpertFeedForward);
        return w;
    }

    /// <summary>The pre-norm block of Llama, Qwen and Phi-3: x += attn(norm(x)); x += ffn(norm(x)) (or the experts').</summary>
    protected static void PreNormBlock(ref ForwardPass pass, LayerWeights w, int layer)
    {
        pass.Norm(w.AttentionNorm);
        pass.Attention(w, layer);
        pass.AddToResidual();
        pass.Norm(w.FeedForwardNorm);
        if (w.Router is null)
        {
            pass.FeedForward(w, FeedForwardActivation.Silu);
        }
        else
        {
            pass.MixtureOfExperts(w);
        }

        pass.AddToResidual();
    }
}
