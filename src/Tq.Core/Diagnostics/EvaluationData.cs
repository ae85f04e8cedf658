namespace Tq.Core.Diagnostics;

/// <summary>Synthetic vector distributions for <see cref="QuantizerEvaluator"/>.</summary>
internal enum EvaluationData
{
    /// <summary>i.i.d. N(0, 1) coordinates.</summary>
    Gaussian,

    /// <summary>Student-t (ν = 4, unit variance) coordinates with a few fixed channels scaled ×10, as real keys have.</summary>
    HeavyTailed,
}
