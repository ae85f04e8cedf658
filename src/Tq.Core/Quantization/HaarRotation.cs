using System.Numerics.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// Haar-random orthogonal matrix for any d: Gram-Schmidt (with re-orthogonalization, in double) of a seeded Gaussian
/// matrix. Gram-Schmidt yields the QR factor with a positive diagonal in R, which is the sign correction that makes Q
/// exactly Haar-distributed.
/// </summary>
internal sealed class HaarRotation : RandomRotation
{
    private readonly float[] _matrix; // row-major d×d
    private readonly SimdPath _path;

    public HaarRotation(int dimension, ulong seed, SimdPath path = SimdPath.Auto)
        : base(dimension, seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 2);
        _path = SimdSupport.Resolve(path);
        int d = dimension;
        var random = new DeterministicRandom(DeterministicRandom.Derive(seed, 0x48414152));
        var q = new double[d * d]; // row k holds basis vector k
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = random.NextGaussian();
        }

        for (int k = 0; k < d; k++)
        {
            Span<double> v = q.AsSpan(k * d, d);
            for (int pass = 0; pass < 2; pass++)
            {
                for (int j = 0; j < k; j++)
                {
                    ReadOnlySpan<double> u = q.AsSpan(j * d, d);
                    TensorPrimitives.MultiplyAdd(u, -TensorPrimitives.Dot(u, v), v, v);
                }
            }

            TensorPrimitives.Divide(v, TensorPrimitives.Norm<double>(v), v);
        }

        _matrix = new float[d * d];
        for (int i = 0; i < q.Length; i++)
        {
            _matrix[i] = (float)q[i];
        }
    }

    public override void Rotate(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckLengths(x, y);
        int d = Dimension;
        Span<float> temp = d <= 1024 ? stackalloc float[d] : new float[d];
        for (int i = 0; i < d; i++)
        {
            ReadOnlySpan<float> row = _matrix.AsSpan(i * d, d);
            temp[i] = _path == SimdPath.Scalar ? ScalarDot(row, x) : TensorPrimitives.Dot(row, x);
        }

        temp.CopyTo(y);
    }

    public override void InverseRotate(ReadOnlySpan<float> y, Span<float> x)
    {
        CheckLengths(y, x);
        int d = Dimension;
        Span<float> temp = d <= 1024 ? stackalloc float[d] : new float[d];
        temp.Clear();
        for (int i = 0; i < d; i++)
        {
            ReadOnlySpan<float> row = _matrix.AsSpan(i * d, d);
            float yi = y[i];
            if (_path == SimdPath.Scalar)
            {
                for (int j = 0; j < d; j++)
                {
                    temp[j] += yi * row[j];
                }
            }
            else
            {
                TensorPrimitives.MultiplyAdd(row, yi, temp, temp);
            }
        }

        temp.CopyTo(x);
    }

    private static float ScalarDot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
