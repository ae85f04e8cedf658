using System.Numerics.Tensors;
using Tq.Core.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// TurboQuant-prod quantizer: the MSE quantizer at b − 1 bits plus a 1-bit QJL sketch of the residual, which makes the
/// inner-product estimate unbiased: ⟨q, x⟩ ≈ ‖x‖·(⟨Rq, ŷ⟩ + ‖r‖·c_d·Σᵢ sign(S r)ᵢ (S R q)ᵢ), r = R x/‖x‖ − ŷ.
/// </summary>
/// <remarks>
/// <para>
/// S is a structured random orthogonal projection: two rounds of (random signs, Walsh-Hadamard) for power-of-two d, a
/// Haar-random matrix otherwise. For S with rows uniform on the sphere, E[sign(s·r)(s·q)] = E|s₁|·⟨r/‖r‖, q⟩, so
/// c_d = 1/(d·E|s₁|) with E|s₁| = Γ(d/2)/(√π·Γ((d+1)/2)) ≈ √(2/(πd)); this is the usual √(π/2)/d for a Gaussian S
/// written for an orthogonal one.
/// </para>
/// <para>Storage per vector: (b − 1)·d code bits + d sign bits, plus two FP16 values (norm and residual norm).</para>
/// </remarks>
internal sealed class TurboQuantProdQuantizer
{
    private const int Block = 256;

    private readonly RandomRotation _rotation;
    private readonly RandomRotation _projection;
    private readonly CodeSegment _mse;
    private readonly CodeSegment _signs;
    private readonly SimdPath _path;
    private readonly float _qjlScale;

    /// <summary>Creates a quantizer.</summary>
    /// <param name="dimension">Vector dimension d, 2 to <see cref="TurboQuantMseQuantizer.MaxDimension"/>.</param>
    /// <param name="bits">Total bits per coordinate: 2, 3 or 4 (b − 1 for the MSE stage, 1 for QJL).</param>
    /// <param name="seed">Seed of the rotation and of the projection.</param>
    /// <exception cref="ArgumentOutOfRangeException">Unsupported dimension or bit width.</exception>
    public TurboQuantProdQuantizer(int dimension, int bits, ulong seed = TurboQuantMseQuantizer.DefaultSeed)
        : this(dimension, bits, seed, SimdPath.Auto)
    {
    }

    internal TurboQuantProdQuantizer(int dimension, int bits, ulong seed, SimdPath path)
    {
        TurboQuantMseQuantizer.ValidateDimension(dimension);
        if (bits is < 2 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "TurboQuant-prod needs 2, 3 or 4 bits (b − 1 for the MSE stage, 1 for QJL).");
        }

        _path = SimdPaths.Resolve(path);
        Dimension = dimension;
        Bits = bits;
        Seed = seed;
        _rotation = RandomRotation.Create(dimension, seed, _path);
        _projection = RandomRotation.Create(dimension, DeterministicRandom.Derive(seed, 0x514A4C), _path, hadamardRounds: 2);
        var book = LloydMaxCodebook.Get(dimension, bits - 1);
        _mse = new CodeSegment(0, dimension, bits - 1, 0, 0, book.CentroidsSingle, book.BoundariesSingle, _path);
        _signs = new CodeSegment(0, dimension, 1, _mse.ByteLength, _mse.PreparedLength, [-1f, 1f], [0f], _path);
        CodeBytesPerVector = _mse.ByteLength + _signs.ByteLength;
        PreparedQueryLength = _mse.PreparedLength + _signs.PreparedLength;
        _qjlScale = (float)QjlScale(dimension);
    }

    /// <summary>Vector dimension d.</summary>
    public int Dimension { get; }

    /// <summary>Total bits per coordinate.</summary>
    public int Bits { get; }

    /// <summary>The seed.</summary>
    public ulong Seed { get; }

    /// <summary>Bytes of packed codes and signs per vector (the two FP16 norms are stored separately).</summary>
    public int CodeBytesPerVector { get; }

    /// <summary>Exact storage in bits per value, both FP16 norms included.</summary>
    public double BitsPerValue => ((CodeBytesPerVector * 8) + 32.0) / Dimension;

    /// <summary>Length of a prepared query.</summary>
    public int PreparedQueryLength { get; }

    internal RandomRotation Projection => _projection;

    /// <summary>c_d = 1/(d·E|s₁|) for s uniform on the unit sphere of ℝ^d.</summary>
    internal static double QjlScale(int dimension)
    {
        // Γ(d/2)/Γ((d+1)/2) by the recurrence ratio(d + 2) = ratio(d)·d/(d + 1), exact from d = 2 and 3.
        double ratio = dimension % 2 == 0 ? 2 / Math.Sqrt(Math.PI) : Math.Sqrt(Math.PI) / 2;
        for (int k = dimension % 2 == 0 ? 2 : 3; k < dimension; k += 2)
        {
            ratio *= (double)k / (k + 1);
        }

        double meanAbs = ratio / Math.Sqrt(Math.PI);
        return 1 / (dimension * meanAbs);
    }

    /// <summary>Encodes <c>vectors.Length / Dimension</c> vectors.</summary>
    /// <param name="vectors">Row-major finite vectors.</param>
    /// <param name="codes">Receives <see cref="CodeBytesPerVector"/> bytes per vector.</param>
    /// <param name="norms">Receives ‖x‖ per vector.</param>
    /// <param name="residualNorms">Receives ‖r‖ (of the unit vector's residual) per vector.</param>
    public void Encode(ReadOnlySpan<float> vectors, Span<byte> codes, Span<Half> norms, Span<Half> residualNorms)
    {
        if (vectors.Length % Dimension != 0)
        {
            throw new ArgumentException($"Length {vectors.Length} is not a multiple of the dimension {Dimension}.", nameof(vectors));
        }

        int count = vectors.Length / Dimension;
        QuantizerMath.CheckLength(codes.Length, count * CodeBytesPerVector, nameof(codes));
        QuantizerMath.CheckLength(norms.Length, count, nameof(norms));
        QuantizerMath.CheckLength(residualNorms.Length, count, nameof(residualNorms));
        int d = Dimension;
        Span<float> unit = stackalloc float[d];
        Span<float> residual = stackalloc float[d];
        Span<byte> raw = stackalloc byte[d];
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<float> x = vectors.Slice(r * d, d);
            float norm = QuantizerMath.Norm(x, r, nameof(vectors));
            Span<byte> row = codes.Slice(r * CodeBytesPerVector, CodeBytesPerVector);
            if (norm > 0)
            {
                TensorPrimitives.Multiply(x, 1f / norm, unit);
                _rotation.Rotate(unit, unit);
            }
            else
            {
                unit.Clear();
            }

            CodeKernels.Quantize(unit, _mse.Boundaries, _mse.BoundaryTable16, default, raw, _path);
            BitPacking.Pack(raw, _mse.Bits, row.Slice(_mse.ByteOffset, _mse.ByteLength), _path);
            for (int i = 0; i < d; i++)
            {
                residual[i] = unit[i] - _mse.Values[raw[i]];
            }

            float residualNorm = norm > 0 ? TensorPrimitives.Norm(residual) : 0;
            _projection.Rotate(residual, residual);
            CodeKernels.Quantize(residual, _signs.Boundaries, _signs.BoundaryTable16, default, raw, _path);
            BitPacking.Pack(raw, 1, row.Slice(_signs.ByteOffset, _signs.ByteLength), _path);
            norms[r] = QuantizerMath.ToHalf(norm, r, nameof(vectors));
            residualNorms[r] = (Half)residualNorm;
        }
    }

    /// <summary>Reconstructs vectors: x̂ = ‖x‖·Rᵀ(ŷ + ‖r‖·c_d·Sᵀ sign(S r)), an unbiased estimate of x.</summary>
    public void Decode(ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, ReadOnlySpan<Half> residualNorms, Span<float> vectors)
    {
        int count = norms.Length;
        QuantizerMath.CheckLength(codes.Length, count * CodeBytesPerVector, nameof(codes));
        QuantizerMath.CheckLength(residualNorms.Length, count, nameof(residualNorms));
        QuantizerMath.CheckLength(vectors.Length, count * Dimension, nameof(vectors));
        int d = Dimension;
        Span<byte> raw = stackalloc byte[d];
        Span<float> sketch = stackalloc float[d];
        for (int r = 0; r < count; r++)
        {
            ReadOnlySpan<byte> row = codes.Slice(r * CodeBytesPerVector, CodeBytesPerVector);
            Span<float> y = vectors.Slice(r * d, d);
            BitPacking.Unpack(row.Slice(_signs.ByteOffset, _signs.ByteLength), 1, raw, _path);
            float scale = (float)residualNorms[r] * _qjlScale;
            for (int i = 0; i < d; i++)
            {
                sketch[i] = raw[i] == 0 ? -scale : scale;
            }

            _projection.InverseRotate(sketch, sketch);
            BitPacking.Unpack(row.Slice(_mse.ByteOffset, _mse.ByteLength), _mse.Bits, raw, _path);
            float norm = (float)norms[r];
            for (int i = 0; i < d; i++)
            {
                y[i] = (_mse.Values[raw[i]] + sketch[i]) * norm;
            }

            _rotation.InverseRotate(y, y);
        }
    }

    /// <summary>Rotates and projects a query once into the layout <see cref="Score"/> reads.</summary>
    public void PrepareQuery(ReadOnlySpan<float> query, Span<float> prepared)
    {
        Span<float> rotated = stackalloc float[Dimension];
        QuantizerMath.RotateQuery(_rotation, query, prepared, PreparedQueryLength, rotated);
        CodeKernels.Arrange(rotated, _mse.Bits, _path, prepared.Slice(_mse.PreparedOffset, _mse.PreparedLength));
        _projection.Rotate(rotated, rotated);
        TensorPrimitives.Multiply(rotated, _qjlScale, rotated);
        CodeKernels.Arrange(rotated, 1, _path, prepared.Slice(_signs.PreparedOffset, _signs.PreparedLength));
    }

    /// <summary>Unbiased estimates of ⟨query, x_r⟩ for every encoded row.</summary>
    public void Score(ReadOnlySpan<float> preparedQuery, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, ReadOnlySpan<Half> residualNorms, Span<float> scores)
    {
        int count = norms.Length;
        QuantizerMath.CheckLength(preparedQuery.Length, PreparedQueryLength, nameof(preparedQuery));
        QuantizerMath.CheckLength(codes.Length, count * CodeBytesPerVector, nameof(codes));
        QuantizerMath.CheckLength(residualNorms.Length, count, nameof(residualNorms));
        QuantizerMath.CheckLength(scores.Length, count, nameof(scores));
        Span<float> sketch = stackalloc float[Block];
        Span<float> residual = stackalloc float[Block];
        for (int start = 0; start < count; start += Block)
        {
            int n = Math.Min(Block, count - start);
            ReadOnlySpan<byte> rows = codes.Slice(start * CodeBytesPerVector, n * CodeBytesPerVector);
            Span<float> s = scores.Slice(start, n);
            CodeKernels.DotRows(rows, CodeBytesPerVector, _mse.ByteOffset, _mse.Count, _mse.Bits, _mse.Table16,
                preparedQuery.Slice(_mse.PreparedOffset, _mse.PreparedLength), s, accumulate: false, _path);
            CodeKernels.DotRows(rows, CodeBytesPerVector, _signs.ByteOffset, _signs.Count, 1, _signs.Table16,
                preparedQuery.Slice(_signs.PreparedOffset, _signs.PreparedLength), sketch[..n], accumulate: false, _path);
            TensorPrimitives.ConvertToSingle(residualNorms.Slice(start, n), residual[..n]);
            TensorPrimitives.MultiplyAdd(sketch[..n], residual[..n], s, s);
        }

        QuantizerMath.MultiplyByNorms(scores, norms);
    }
}
