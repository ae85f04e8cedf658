namespace Tq.Core.Diagnostics;

/// <summary>The quantizer configurations <see cref="QuantizerEvaluator"/> measures.</summary>
internal enum QuantizerVariant
{
    /// <summary>TurboQuant-MSE storing ‖x‖/‖ŷ‖ (norm correction; the default from 3 bits).</summary>
    MseNormCorrected,

    /// <summary>TurboQuant-MSE storing the plain norm ‖x‖ (the default below 3 bits).</summary>
    MseRawNorm,

    /// <summary>TurboQuant-prod: MSE at b − 1 bits plus the 1-bit QJL residual sketch (keys).</summary>
    Prod,
}
