using Tq.Core.Tensors;

namespace Tq.Core.Models;

/// <summary>The weights of one transformer layer: views into the mapped file, with norms and biases copied to floats.</summary>
internal sealed class LayerWeights
{
    /// <summary>RMSNorm weight before attention.</summary>
    public required float[] AttentionNorm { get; init; }

    /// <summary>Q projection (or the fused QKV projection when <see cref="ModelArchitecture.FusedQkv"/>).</summary>
    public required WeightMatrix Query { get; init; }

    /// <summary>K projection (unused when fused).</summary>
    public WeightMatrix Key { get; init; }

    /// <summary>V projection (unused when fused).</summary>
    public WeightMatrix Value { get; init; }

    /// <summary>Q bias, if the architecture has one.</summary>
    public float[]? QueryBias { get; init; }

    /// <summary>K bias, if the architecture has one.</summary>
    public float[]? KeyBias { get; init; }

    /// <summary>V bias, if the architecture has one.</summary>
    public float[]? ValueBias { get; init; }

    /// <summary>Attention output projection.</summary>
    public required WeightMatrix Output { get; init; }

    /// <summary>RMSNorm weight before the MLP.</summary>
    public required float[] FeedForwardNorm { get; init; }

    /// <summary>Gate projection (unused when gate/up are fused into <see cref="Up"/>).</summary>
    public WeightMatrix Gate { get; init; }

    /// <summary>Up projection (gate then up when fused).</summary>
    public required WeightMatrix Up { get; init; }

    /// <summary>Down projection.</summary>
    public required WeightMatrix Down { get; init; }
}
