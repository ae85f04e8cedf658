namespace Tq.Core.Models;

/// <summary>The gated activation of a feed-forward network.</summary>
internal enum FeedForwardActivation
{
    /// <summary>SwiGLU: silu(gate)·up (Llama, Qwen, Phi-3).</summary>
    Silu,

    /// <summary>GeGLU with the tanh-approximated GELU: gelu(gate)·up (Gemma).</summary>
    GeluTanh,
}
