namespace Tq.Core.Diagnostics;

/// <summary>Quality and speed figures of one quantizer configuration on one data set.</summary>
internal sealed record QuantizerReport(
    string Data,
    int Dimension,
    string Variant,
    double Bits,
    int Vectors,
    double Nmse,
    double SnrDb,
    double MeanCosine,
    double InnerProductRelativeError,
    double InnerProductBias,
    double BitsPerValue,
    double CompressionVsFp16,
    double ShannonBound,
    double TurboQuantBound,
    double EncodeVectorsPerSecond);
