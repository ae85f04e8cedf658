using System.Numerics.Tensors;
using Tq.Core.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// Haar-random orthogonal matrix for any d: Gram-Schmidt (with re-orthogonalization, in double) of a seeded Gaussian
/// matrix. Gram-Schmidt yields the QR factor with a positive diagonal in R, which is the sign correction that makes Q
/// exactly Haar-distributed.
/// </summary>
internal sealed class HaarRotation : RandomRotation
{
    private readonly float[] _matrix; // row-major d×d: row i is basis vector i
    private readonly float[] _transposed;
    private readonly SimdPath _path;

    public HaarRotation(int dimension, ulong seed, SimdPath path = SimdPath.Auto)
        : base(dimension, seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 2);
        _path = SimdPaths.Resolve(path);
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

        // Row-major Q for Rᵀy = Σᵢ yᵢ·Q[i, :], and Qᵀ for Rx = Σⱼ xⱼ·Q[:, j]: both directions are sums of scaled rows.
        _matrix = new float[d * d];
        _transposed = new float[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                _matrix[(i * d) + j] = (float)q[(i * d) + j];
                _transposed[(j * d) + i] = (float)q[(i * d) + j];
            }
        }
    }

    public override void Rotate(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckLengths(x, y);
        SumOfScaledRows(_transposed, x, y, Dimension, _path);
    }

    public override void InverseRotate(ReadOnlySpan<float> y, Span<float> x)
    {
        CheckLengths(y, x);
        SumOfScaledRows(_matrix, y, x, Dimension, _path);
    }

    /// <summary>output = Σⱼ weights[j]·rows[j, :], blocked so each output block stays in registers over all rows.</summary>
    private static void SumOfScaledRows(float[] rows, ReadOnlySpan<float> weights, Span<float> output, int d, SimdPath path)
    {
        Span<float> temp = stackalloc float[d]; // the spans may alias
        ref float m = ref MemoryMarshal.GetArrayDataReference(rows);
        ref float w = ref MemoryMarshal.GetReference(weights);
        ref float t = ref MemoryMarshal.GetReference(temp);
        int c = 0;
        if (path == SimdPath.Vector512)
        {
            for (; c + 64 <= d; c += 64)
            {
                var a0 = Vector512<float>.Zero;
                var a1 = Vector512<float>.Zero;
                var a2 = Vector512<float>.Zero;
                var a3 = Vector512<float>.Zero;
                for (int j = 0; j < d; j++)
                {
                    ref float r = ref Unsafe.Add(ref m, (j * d) + c);
                    var wj = Vector512.Create(Unsafe.Add(ref w, j));
                    a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, 0), wj, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, 16), wj, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, 32), wj, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref r, 48), wj, a3);
                }

                a0.StoreUnsafe(ref t, (nuint)c);
                a1.StoreUnsafe(ref t, (nuint)(c + 16));
                a2.StoreUnsafe(ref t, (nuint)(c + 32));
                a3.StoreUnsafe(ref t, (nuint)(c + 48));
            }

            for (; c + 16 <= d; c += 16)
            {
                var a0 = Vector512<float>.Zero;
                for (int j = 0; j < d; j++)
                {
                    a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref m, (nuint)((j * d) + c)), Vector512.Create(Unsafe.Add(ref w, j)), a0);
                }

                a0.StoreUnsafe(ref t, (nuint)c);
            }
        }
        else if (path == SimdPath.Vector256)
        {
            for (; c + 32 <= d; c += 32)
            {
                var a0 = Vector256<float>.Zero;
                var a1 = Vector256<float>.Zero;
                var a2 = Vector256<float>.Zero;
                var a3 = Vector256<float>.Zero;
                for (int j = 0; j < d; j++)
                {
                    ref float r = ref Unsafe.Add(ref m, (j * d) + c);
                    var wj = Vector256.Create(Unsafe.Add(ref w, j));
                    a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, 0), wj, a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, 8), wj, a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, 16), wj, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, 24), wj, a3);
                }

                a0.StoreUnsafe(ref t, (nuint)c);
                a1.StoreUnsafe(ref t, (nuint)(c + 8));
                a2.StoreUnsafe(ref t, (nuint)(c + 16));
                a3.StoreUnsafe(ref t, (nuint)(c + 24));
            }

            for (; c + 8 <= d; c += 8)
            {
                var a0 = Vector256<float>.Zero;
                for (int j = 0; j < d; j++)
                {
                    a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref m, (nuint)((j * d) + c)), Vector256.Create(Unsafe.Add(ref w, j)), a0);
                }

                a0.StoreUnsafe(ref t, (nuint)c);
            }
        }

        for (; c < d; c++)
        {
            float sum = 0;
            for (int j = 0; j < d; j++)
            {
                sum += Unsafe.Add(ref m, (j * d) + c) * Unsafe.Add(ref w, j);
            }

            Unsafe.Add(ref t, c) = sum;
        }

        temp.CopyTo(output);
    }
}
