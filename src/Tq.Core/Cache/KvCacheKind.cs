namespace Tq.Core.Cache;

/// <summary>How a session's key/value cache stores tokens.</summary>
public enum KvCacheKind
{
    /// <summary>Keys and values in FP16 (llama.cpp's default): the reference every other kind is measured against.</summary>
    F16 = 0,

#pragma warning disable CA1707 // ggml's spelling, as llama.cpp's -ctk q8_0.
    /// <summary>Keys and values as Q8_0 blocks (32 signed bytes and one FP16 scale), llama.cpp's common compressed choice.</summary>
    Q8_0 = 1,
#pragma warning restore CA1707

    /// <summary>
    /// TurboQuant: rotated Lloyd-Max codes with an FP16 norm per row, attention scored straight from the codes, with
    /// FP16 attention-sink tokens and an FP16 recent window (see <see cref="KvCacheOptions"/>).
    /// </summary>
    TurboQuant = 2,
}
