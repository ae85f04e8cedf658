using Tq.Core.Tensors;

namespace Tq.Core.Models;

/// <summary>
/// Preallocated activations of one forward pass for up to <see cref="MaxBatch"/> tokens, owned by a session, so
/// decoding allocates nothing per token.
/// </summary>
internal sealed class ForwardScratch
{
    /// <summary>Allocates the buffers for <paramref name="model"/> and batches of up to <paramref name="maxBatch"/> tokens.</summary>
    public ForwardScratch(Model model, int maxBatch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        MaxBatch = maxBatch;
        ModelDimensions d = model.Dimensions;
        int dim = d.Dim;
        int used = model.HyperParameters.ExpertUsedCount;

        // An expert's gate/up hold the batch's rows routed to it: at most one per token.
        int ff = Math.Max(d.FeedForward, d.ExpertFeedForward);
        X = new float[maxBatch * dim];
        Normed = new float[maxBatch * dim];
        Query = new float[maxBatch * d.QDim];
        Key = new float[maxBatch * d.KvDim];
        KeyBeforeRope = new float[maxBatch * d.KvDim];
        Value = new float[maxBatch * d.VDim];
        Fused = model.HasFusedProjections ? new float[maxBatch * Math.Max(d.QDim + d.KvDim + d.VDim, 2 * d.FeedForward)] : [];
        Attention = new float[maxBatch * d.AttentionDim];
        Projected = new float[maxBatch * dim];
        Gate = new float[maxBatch * ff];
        Up = new float[maxBatch * ff];
        RopeTables = new float[model.RopeKinds * maxBatch * model.Info.RopeDimensionCount];
        Logits = new float[model.VocabularySize];
        if (d.Experts > 0)
        {
            RouterLogits = new float[maxBatch * d.Experts];
            ExpertIds = new int[maxBatch * used];
            ExpertWeights = new float[maxBatch * used];
            MoeInput = new float[maxBatch * dim];
            MoeOutput = new float[maxBatch * dim];
            MoeSlots = new int[maxBatch];
            SlotOutputs = new float[maxBatch * used * dim];
        }
    }

    /// <summary>The most tokens one forward call takes.</summary>
    public int MaxBatch { get; }

    /// <summary>The residual stream, [batch][dim].</summary>
    public float[] X { get; }

    /// <summary>A normalised residual (the input of the next piece), [batch][dim].</summary>
    public float[] Normed { get; }

    /// <summary>Queries, [batch][heads·dk].</summary>
    public float[] Query { get; }

    /// <summary>Keys after RoPE, [batch][kvHeads·dk].</summary>
    public float[] Key { get; }

    /// <summary>Keys before RoPE, [batch][kvHeads·dk].</summary>
    public float[] KeyBeforeRope { get; }

    /// <summary>Values, [batch][kvHeads·dv].</summary>
    public float[] Value { get; }

    /// <summary>Output of a fused projection (QKV or gate-up) before it is split; empty when no layer has one.</summary>
    public float[] Fused { get; }

    /// <summary>Attention output, [batch][heads·dv].</summary>
    public float[] Attention { get; }

    /// <summary>A projection back to the model dimension, [batch][dim].</summary>
    public float[] Projected { get; }

    /// <summary>MLP gate, [batch][ff] (MoE: one expert's rows, [≤ batch][expert ff]).</summary>
    public float[] Gate { get; }

    /// <summary>MLP up, [batch][ff] (MoE: one expert's rows, [≤ batch][expert ff]).</summary>
    public float[] Up { get; }

    /// <summary>(cos, sin) per RoPE kind and token of the batch, [kind][batch][table].</summary>
    public float[] RopeTables { get; }

    /// <summary>Router logits, then probabilities, [batch][experts].</summary>
    public float[] RouterLogits { get; } = [];

    /// <summary>The chosen experts, [batch][used] in rank order.</summary>
    public int[] ExpertIds { get; } = [];

    /// <summary>The chosen experts' normalized weights, [batch][used].</summary>
    public float[] ExpertWeights { get; } = [];

    /// <summary>The rows routed to one expert, gathered, [rows][dim].</summary>
    public float[] MoeInput { get; } = [];

    /// <summary>One expert's outputs, [rows][dim].</summary>
    public float[] MoeOutput { get; } = [];

    /// <summary>The (token, rank) slot of each gathered row.</summary>
    public int[] MoeSlots { get; } = [];

    /// <summary>Each slot's weighted expert output, [batch][used][dim], summed in rank order.</summary>
    public float[] SlotOutputs { get; } = [];

    /// <summary>Logits: one row for the last token, or a row per token when all are requested (grown on demand).</summary>
    public float[] Logits { get; set; }

    /// <summary>The matrix products' scratch for the thread that runs the pass.</summary>
    public KernelScratch Kernels { get; } = new();
}
