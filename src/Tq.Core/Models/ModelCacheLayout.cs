using Tq.Core.Cache;
using Tq.Core.Gguf;

namespace Tq.Core.Models;

/// <summary>
/// The KV-cache layout of a model (heads, head sizes, each layer's RoPE, scale, soft-cap and sliding window): one
/// definition for a loaded <see cref="Model"/> and for a GGUF header read without its weights (start-up validation
/// sizes the cache with <see cref="KvCacheFactory.Footprint"/> from it).
/// </summary>
internal static class ModelCacheLayout
{
    /// <summary>The layout of a cache of <paramref name="capacity"/> tokens storing at most <paramref name="maxBatch"/> at once.</summary>
    public static KvCacheLayout Create(ModelArchitecture architecture, ModelHyperParameters hp, RopeFactors ropeFactors, int capacity, int maxBatch)
    {
        GgufModelInfo info = hp.Info;
        float[]? factors = ropeFactors.For(capacity, hp.OriginalContext);
        var full = new RotaryEmbedding(architecture.RopeStyle, info.KeyLength, info.RopeDimensionCount, hp.RopeFreqBase, hp.RopeFreqScale, factors, hp.RopeAttnFactor, hp.Yarn);
        RotaryEmbedding sliding = hp.RopeFreqBaseSwa == hp.RopeFreqBase && hp.RopeFreqScaleSwa == hp.RopeFreqScale ? full
            : new RotaryEmbedding(architecture.RopeStyle, info.KeyLength, info.RopeDimensionCount, hp.RopeFreqBaseSwa, hp.RopeFreqScaleSwa, factors, hp.RopeAttnFactor, hp.Yarn);
        float scale = hp.QueryScale != 0 ? 1f : 1.0f / MathF.Sqrt(info.KeyLength);
        var attention = new LayerAttention[info.BlockCount];
        for (int l = 0; l < attention.Length; l++)
        {
            bool slides = hp.SlidingLayers[l] && hp.SlidingWindow > 0;
            attention[l] = new LayerAttention(slides ? sliding : full, scale, hp.AttentionSoftCap, slides ? hp.SlidingWindow : 0);
        }

        return new KvCacheLayout(info.HeadCount, info.HeadCountKv, info.KeyLength, info.ValueLength, capacity, attention, maxBatch);
    }

    /// <summary>
    /// The layout a <see cref="Model"/> loaded from the GGUF file would give, read from its header and RoPE factor tensors only
    /// (no weight is touched).
    /// </summary>
    /// <exception cref="NotSupportedException">The architecture or a RoPE scaling is not supported.</exception>
    /// <exception cref="InvalidDataException">A hyper-parameter is missing or not understood.</exception>
    public static KvCacheLayout FromFile(GgufFile file, int capacity, int maxBatch)
    {
        ArgumentNullException.ThrowIfNull(file);
        var architecture = ModelArchitecture.ForName(file.Metadata.GetString("general.architecture"));
        var info = GgufModelInfo.FromFile(file);
        ModelHyperParameters hp = ModelHyperParameters.Read(file, info, architecture);
        RopeFactors factors = architecture.LoadRopeFactors(new TensorLoader(file, architecture.Name), hp, info.RopeDimensionCount / 2);
        return Create(architecture, hp, factors, capacity, maxBatch);
    }
}
