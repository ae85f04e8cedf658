namespace Tq.Core.Cache;

/// <summary>Which of ggml's two CPU attention paths the FP16 cache reproduces, rounding for rounding.</summary>
internal enum AttentionMode
{
    /// <summary>Flash attention (<c>-fa on</c>/auto, llama.cpp's CPU default): online softmax, FP16 value accumulator.</summary>
    Flash,

    /// <summary>Two-pass softmax (<c>-fa off</c>): weights rounded to FP16, float value accumulator.</summary>
    TwoPass,
}
