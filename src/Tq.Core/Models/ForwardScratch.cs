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
        int dim = model.EmbeddingLength;
        int qDim = model.HeadCount * model.KeyLength;
        int kvDim = model.HeadCountKv * model.KeyLength;
        int vDim = model.HeadCountKv * model.ValueLength;
        int attnDim = model.HeadCount * model.ValueLength;
        int ff = model.FeedForwardLength;
        X = new float[maxBatch * dim];
        Normed = new float[maxBatch * Math.Max(dim, attnDim)];
        Query = new float[maxBatch * qDim];
        Key = new float[maxBatch * kvDim];
        KeyBeforeRope = new float[maxBatch * kvDim];
        Value = new float[maxBatch * vDim];
        Fused = model.Architecture.FusedQkv || model.Architecture.FusedGateUp
            ? new float[maxBatch * Math.Max(qDim + kvDim + vDim, 2 * ff)]
            : [];
        Attention = new float[maxBatch * attnDim];
        Projected = new float[maxBatch * dim];
        Gate = new float[maxBatch * ff];
        Up = new float[maxBatch * ff];
        RopeTables = new float[maxBatch * model.Rope.TableLength];
        Logits = new float[model.VocabularySize];
    }

    /// <summary>The most tokens one forward call takes.</summary>
    public int MaxBatch { get; }

    /// <summary>The residual stream, [batch][dim].</summary>
    public float[] X { get; }

    /// <summary>Normalised residual (also the attention output before projection), [batch][max(dim, heads·dv)].</summary>
    public float[] Normed { get; }

    /// <summary>Queries, [batch][heads·dk].</summary>
    public float[] Query { get; }

    /// <summary>Keys after RoPE, [batch][kvHeads·dk].</summary>
    public float[] Key { get; }

    /// <summary>Keys before RoPE, [batch][kvHeads·dk].</summary>
    public float[] KeyBeforeRope { get; }

    /// <summary>Values, [batch][kvHeads·dv].</summary>
    public float[] Value { get; }

    /// <summary>Output of a fused projection (QKV or gate-up) before it is split; empty when none is fused.</summary>
    public float[] Fused { get; }

    /// <summary>Attention output, [batch][heads·dv].</summary>
    public float[] Attention { get; }

    /// <summary>A projection back to the model dimension, [batch][dim].</summary>
    public float[] Projected { get; }

    /// <summary>MLP gate, [batch][ff].</summary>
    public float[] Gate { get; }

    /// <summary>MLP up, [batch][ff].</summary>
    public float[] Up { get; }

    /// <summary>(cos, sin) per token of the batch.</summary>
    public float[] RopeTables { get; }

    /// <summary>Logits: one row for the last token, or a row per token when all are requested (grown on demand).</summary>
    public float[] Logits { get; set; }
}
