namespace Tq.Core.Models;

/// <summary>The sizes of a model's tensors, derived once from its hyper-parameters.</summary>
/// <param name="Dim">The model dimension.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads.</param>
/// <param name="KeyLength">Values per key head.</param>
/// <param name="ValueLength">Values per value head.</param>
/// <param name="FeedForward">The dense FFN's hidden size.</param>
/// <param name="Experts">Experts per MoE layer (0: dense).</param>
/// <param name="ExpertFeedForward">One expert's hidden size.</param>
internal readonly record struct ModelDimensions(int Dim, int Heads, int KvHeads, int KeyLength, int ValueLength, int FeedForward, int Experts, int ExpertFeedForward)
{
    /// <summary>Query rows: heads × key length.</summary>
    public int QDim => Heads * KeyLength;

    /// <summary>Key rows: KV heads × key length.</summary>
    public int KvDim => KvHeads * KeyLength;

    /// <summary>Value rows: KV heads × value length.</summary>
    public int VDim => KvHeads * ValueLength;

    /// <summary>Attention output width: heads × value length.</summary>
    public int AttentionDim => Heads * ValueLength;
}
