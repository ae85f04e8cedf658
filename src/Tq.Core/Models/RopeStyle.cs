namespace Tq.Core.Models;

/// <summary>How rotary position embedding pairs the coordinates of a head (ggml's rope <c>mode</c>).</summary>
internal enum RopeStyle
{
    /// <summary>Adjacent pairs (x[2i], x[2i+1]) — ggml mode 0, used by llama.</summary>
    Normal,

    /// <summary>Pairs half a rotation apart (x[i], x[i + n/2]) — ggml mode 2 (NeoX), used by qwen2 and phi3.</summary>
    NeoX,
}
