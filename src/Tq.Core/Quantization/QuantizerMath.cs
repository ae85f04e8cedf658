using System.Numerics.Tensors;

namespace Tq.Core.Quantization;

/// <summary>Validation and small helpers shared by the quantizers.</summary>
internal static class QuantizerMath
{
    private const int Block = 256;

    /// <summary>‖x‖, or a clear exception when x holds NaN/∞.</summary>
    public static float Norm(ReadOnlySpan<float> x, int row, string parameter)
    {
        float squares = TensorPrimitives.SumOfSquares(x);
        if (float.IsFinite(squares))
        {
            return MathF.Sqrt(squares);
        }

        CheckFinite(x, parameter, row);

        // Finite values whose squares overflow single precision.
        double sum = 0;
        foreach (float v in x)
        {
            sum += (double)v * v;
        }

        return (float)Math.Sqrt(sum);
    }

    public static void CheckFinite(ReadOnlySpan<float> x, string parameter, int row = -1)
    {
        for (int i = 0; i < x.Length; i++)
        {
            if (!float.IsFinite(x[i]))
            {
                string where = row >= 0 ? $"vector {row}, element {i}" : $"element {i}";
                throw new ArgumentException($"Input contains {x[i]} at {where}; quantizer inputs must be finite.", parameter);
            }
        }
    }

    public static Half ToHalf(float value, int row, string parameter)
    {
        var half = (Half)value;
        if (Half.IsInfinity(half))
        {
            throw new ArgumentException($"Vector {row} has norm {value}, beyond the FP16 range of the stored norm.", parameter);
        }

        return half;
    }

    /// <summary>values[r] *= norms[r], converting FP16 in blocks with the vectorized converter.</summary>
    public static void MultiplyByNorms(Span<float> values, ReadOnlySpan<Half> norms)
    {
        Span<float> block = stackalloc float[Block];
        for (int start = 0; start < values.Length; start += Block)
        {
            int n = Math.Min(Block, values.Length - start);
            TensorPrimitives.ConvertToSingle(norms.Slice(start, n), block[..n]);
            Span<float> v = values.Slice(start, n);
            TensorPrimitives.Multiply(v, block[..n], v);
        }
    }

    /// <summary>An <see cref="ArgumentException"/> naming <paramref name="name"/> unless <paramref name="actual"/> is <paramref name="expected"/>.</summary>
    public static void CheckLength(int actual, int expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"Expected length {expected}, got {actual}.", name);
        }
    }

    /// <summary>
    /// The start of every quantizer's <c>PrepareQuery</c>: checks the query (the rotation's dimension, finite) and the
    /// prepared buffer (<paramref name="preparedLength"/>), then rotates the query into <paramref name="rotated"/>.
    /// </summary>
    public static void RotateQuery(RandomRotation rotation, ReadOnlySpan<float> query, Span<float> prepared, int preparedLength, Span<float> rotated)
    {
        CheckLength(query.Length, rotated.Length, nameof(query));
        CheckLength(prepared.Length, preparedLength, nameof(prepared));
        CheckFinite(query, nameof(query));
        rotation.Rotate(query, rotated);
    }
}
