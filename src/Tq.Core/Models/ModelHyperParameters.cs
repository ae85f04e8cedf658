using System.Globalization;
using Tq.Core.Gguf;

namespace Tq.Core.Models;

/// <summary>
/// Everything about a model's math that metadata sets, resolved once at load as llama.cpp resolves it
/// (<c>llama_model::load_hparams</c>, the architecture's <c>load_arch_hparams</c>, <c>llama_context</c>'s RoPE setup).
/// Every <c>{arch}.*</c> key must be read by the generic part or the architecture; a key nobody reads is refused.
/// </summary>
internal sealed class ModelHyperParameters
{
    // Keys every architecture understands (read here or by GgufModelInfo): hyper-parameters, not behaviour switches.
    private static readonly string[] s_generic =
    [
        "context_length", "embedding_length", "block_count", "feed_forward_length", "vocab_size",
        "attention.head_count", "attention.head_count_kv", "attention.key_length", "attention.value_length",
        "attention.layer_norm_rms_epsilon", "rope.dimension_count", "rope.freq_base", "rope.scaling.type",
        "rope.scaling.factor", "rope.scale_linear", "rope.scaling.original_context_length", "rope.scaling.attn_factor",
        "rope.scaling.finetuned",
    ];

    private readonly GgufMetadata _metadata;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private ModelHyperParameters(GgufFile file, GgufModelInfo info)
    {
        _metadata = file.Metadata;
        Info = info;
        FileName = Path.GetFileName(file.Path) ?? string.Empty;
        foreach (string key in s_generic)
        {
            _read.Add(Key(key));
        }

        SlidingLayers = new bool[info.BlockCount];
    }

    /// <summary>The generic facts.</summary>
    public GgufModelInfo Info { get; }

    /// <summary>The file name, for errors.</summary>
    public string FileName { get; }

    /// <summary>The RMSNorm epsilon.</summary>
    public float RmsNormEpsilon { get; set; }

    /// <summary><c>rope.freq_base</c> of full-attention layers.</summary>
    public float RopeFreqBase { get; set; }

    /// <summary>The linear RoPE position scale of full-attention layers (1 / <c>rope.scaling.factor</c>).</summary>
    public float RopeFreqScale { get; set; } = 1f;

    /// <summary>The RoPE base of sliding-window layers (Gemma: <c>rope.freq_base_swa</c>).</summary>
    public float RopeFreqBaseSwa { get; set; }

    /// <summary>The linear RoPE scale of sliding-window layers (never scaled: 1).</summary>
    public float RopeFreqScaleSwa { get; set; } = 1f;

    /// <summary>The RoPE magnitude scale (<c>rope.scaling.attn_factor</c>, with YaRN's correction folded in as llama.cpp does).</summary>
    public float RopeAttnFactor { get; set; } = 1f;

    /// <summary>YaRN settings when <c>rope.scaling.type</c> is <c>yarn</c>.</summary>
    public YarnSettings? Yarn { get; set; }

    /// <summary>The RoPE scaling type (<c>none</c>, <c>linear</c>, <c>yarn</c>, <c>longrope</c>).</summary>
    public string RopeScaling { get; set; } = "linear";

    /// <summary>The context the RoPE was trained for (<c>rope.scaling.original_context_length</c> or the context length).</summary>
    public int OriginalContext { get; set; }

    /// <summary>Keys visible to a query of a sliding-window layer (0: none).</summary>
    public int SlidingWindow { get; set; }

    /// <summary>Which layers attend to the sliding window only.</summary>
    public bool[] SlidingLayers { get; }

    /// <summary>Attention logit soft-cap (Gemma 2), or 0.</summary>
    public float AttentionSoftCap { get; set; }

    /// <summary>Final logit soft-cap (Gemma 2), or 0.</summary>
    public float FinalSoftCap { get; set; }

    /// <summary>The factor of the token embeddings (Gemma: √dim), or 1.</summary>
    public float EmbeddingScale { get; set; } = 1f;

    /// <summary>Queries are multiplied by this after RoPE and attention scores are not scaled (Gemma, Phi-3); 0: scores are scaled by 1/√d.</summary>
    public float QueryScale { get; set; }

    /// <summary>Experts per MoE layer (0: dense).</summary>
    public int ExpertCount { get; set; }

    /// <summary>Experts each token uses.</summary>
    public int ExpertUsedCount { get; set; }

    /// <summary>The hidden size of one expert.</summary>
    public int ExpertFeedForwardLength { get; set; }

    /// <summary>Reads the hyper-parameters of <paramref name="file"/> for <paramref name="architecture"/>.</summary>
    /// <exception cref="NotSupportedException">A metadata key, or a value, the definition does not understand (named).</exception>
    public static ModelHyperParameters Read(GgufFile file, GgufModelInfo info, ModelArchitecture architecture)
    {
        var hp = new ModelHyperParameters(file, info);
        hp.RmsNormEpsilon = info.RmsNormEpsilon > 0 ? info.RmsNormEpsilon : 1e-5f;
        hp.RopeFreqBase = info.RopeFreqBase;
        hp.RopeFreqBaseSwa = 10000f;
        hp.OriginalContext = info.RopeScalingOriginalContextLength > 0 ? info.RopeScalingOriginalContextLength : info.ContextLength;

        // llama.cpp: the type defaults to linear; the factor (or the old rope.scale_linear) sets freq_scale = 1/factor.
        hp.RopeScaling = info.RopeScalingType ?? "linear";
        float factor = info.RopeScalingFactor > 0 ? info.RopeScalingFactor : file.Metadata.GetSingleOrDefault(hp.Key("rope.scale_linear"), 0f);
        hp.RopeFreqScale = factor == 0 ? 1f : 1f / factor;
        hp.RopeAttnFactor = file.Metadata.GetSingleOrDefault(hp.Key("rope.scaling.attn_factor"), 1f);
        switch (hp.RopeScaling)
        {
            case "none":
                hp.RopeFreqScale = 1f;
                break;
            case "linear" or "longrope":
                break;
            case "yarn":
                {
                    // llama_context: yarn_attn_factor = mscale(factor) / (1 + 0.1·ln factor), times rope.scaling.attn_factor;
                    // ggml's rope then multiplies by 1 + 0.1·ln(1/freq_scale) again.
                    float f = 1f / hp.RopeFreqScale;
                    float mscale = f <= 1f ? 1f : (0.1f * MathF.Log(f)) + 1f;
                    mscale *= 1f / (1f + (0.1f * MathF.Log(f)));
                    hp.RopeAttnFactor *= mscale;
                    hp.Yarn = new YarnSettings(hp.OriginalContext);
                    break;
                }

            default:
                throw new NotSupportedException($"Model '{hp.FileName}' ({info.Architecture}): RoPE scaling type '{hp.RopeScaling}' ({hp.Key("rope.scaling.type")}) is not supported; supported: none, linear, yarn, longrope.");
        }

        // Dense models may carry expert_count = 0 (llama.cpp reads it for every architecture).
        hp.ExpertCount = hp.Int("expert_count", 0);
        hp.ExpertUsedCount = hp.Int("expert_used_count", 0);
        architecture.ReadHyperParameters(hp);
        hp.EnsureAllRead(architecture);
        return hp;
    }

    /// <summary>The full key of <paramref name="suffix"/>, e.g. <c>gemma2.attention.sliding_window</c>.</summary>
    public string Key(string suffix) => string.Create(CultureInfo.InvariantCulture, $"{Info.Architecture}.{suffix}");

    /// <summary>Reads an integer key (marks it read).</summary>
    public int Int(string suffix, int defaultValue)
    {
        _read.Add(Key(suffix));
        return _metadata.GetInt32OrDefault(Key(suffix), defaultValue);
    }

    /// <summary>Reads a float key (marks it read).</summary>
    public float Float(string suffix, float defaultValue)
    {
        _read.Add(Key(suffix));
        return _metadata.GetSingleOrDefault(Key(suffix), defaultValue);
    }

    /// <summary>Reads a boolean key (marks it read).</summary>
    public bool Bool(string suffix, bool defaultValue)
    {
        _read.Add(Key(suffix));
        return _metadata.GetBooleanOrDefault(Key(suffix), defaultValue);
    }

    /// <summary>
    /// Sets <see cref="SlidingLayers"/> as llama.cpp's <c>load_swa_pattern</c>: from the
    /// <c>attention.sliding_window_pattern</c> array if present, else every layer but the last of each group of
    /// <paramref name="pattern"/> (or the pattern the key gives) is a sliding one.
    /// </summary>
    public void SetSlidingPattern(int pattern)
    {
        string key = Key("attention.sliding_window_pattern");
        _read.Add(key);
        if (_metadata.TryGetValue(key, out GgufValue? value) && value.IsArray)
        {
            bool[] flags = value.Value as bool[] ?? value.AsInt32Array().Select(v => v != 0).ToArray();
            if (flags.Length < SlidingLayers.Length)
            {
                throw new InvalidDataException($"Model '{FileName}': '{key}' has {flags.Length} entries for {SlidingLayers.Length} layers.");
            }

            Array.Copy(flags, SlidingLayers, SlidingLayers.Length);
            return;
        }

        if (value is not null)
        {
            pattern = value.AsInt32();
        }

        for (int l = 0; l < SlidingLayers.Length; l++)
        {
            SlidingLayers[l] = pattern == 0 || (l % pattern < pattern - 1);
        }
    }

    /// <summary>Refuses a value the definition cannot honour.</summary>
    public NotSupportedException Refuse(string suffix, string why) =>
        new($"Model '{FileName}' ({Info.Architecture}): '{Key(suffix)}' {why}");

    private void EnsureAllRead(ModelArchitecture architecture)
    {
        string prefix = Info.Architecture + ".";
        foreach (KeyValuePair<string, GgufValue> entry in _metadata)
        {
            if (entry.Key.StartsWith(prefix, StringComparison.Ordinal) && !_read.Contains(entry.Key))
            {
                throw new NotSupportedException($"Model '{FileName}' ({Info.Architecture}): metadata '{entry.Key}' is not understood by the {architecture.Name} definition; it may change the math, so the model is refused.");
            }
        }

        if (ExpertCount != 0 && !architecture.UsesExperts)
        {
            throw Refuse("expert_count", $"is {ExpertCount}, but the {architecture.Name} definition has no mixture of experts.");
        }
    }
}
