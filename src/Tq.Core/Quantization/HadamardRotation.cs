using System.Numerics.Tensors;
using Tq.Core.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// Randomized Walsh-Hadamard rotation for power-of-two d: R = Π (H·Dₖ)/√d over the rounds, Dₖ random ±1 diagonals.
/// H is symmetric and H² = d·I, so Rᵀ applies the same steps in reverse order.
/// </summary>
internal sealed class HadamardRotation : RandomRotation
{
    private readonly float[][] _signs; // per round: ±1/√d, the normalization folded in
    private readonly SimdPath _path;

    public HadamardRotation(int dimension, ulong seed, int rounds = 1, SimdPath path = SimdPath.Auto)
        : base(dimension, seed)
    {
        if (dimension < 2 || (dimension & (dimension - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The Hadamard rotation needs a power-of-two dimension.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        _path = SimdPaths.Resolve(path);
        var random = new DeterministicRandom(DeterministicRandom.Derive(seed, 0x4841444D));
        float scale = 1f / MathF.Sqrt(dimension);
        _signs = new float[rounds][];
        for (int r = 0; r < rounds; r++)
        {
            _signs[r] = new float[dimension];
            for (int i = 0; i < dimension; i++)
            {
                _signs[r][i] = (random.NextUInt64() >> 63) == 0 ? scale : -scale;
            }
        }
    }

    public int Rounds => _signs.Length;

    public override void Rotate(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckLengths(x, y);
        x.CopyTo(y);
        foreach (float[] signs in _signs)
        {
            Multiply(y, signs);
            Transform(y, _path);
        }
    }

    public override void InverseRotate(ReadOnlySpan<float> y, Span<float> x)
    {
        CheckLengths(y, x);
        y.CopyTo(x);
        for (int r = _signs.Length - 1; r >= 0; r--)
        {
            Transform(x, _path);
            Multiply(x, _signs[r]);
        }
    }

    private static void Multiply(Span<float> x, float[] signs) => TensorPrimitives.Multiply(x, signs, x);

    /// <summary>In-place unnormalized fast Walsh-Hadamard transform (Sylvester order).</summary>
    internal static void Transform(Span<float> x, SimdPath path)
    {
        int n = x.Length;
        int h = 1;
        if (path == SimdPath.Vector512 && n >= 16)
        {
            InRegister512(x);
            h = 16;
        }
        else if (path == SimdPath.Vector256 && n >= 8)
        {
            InRegister256(x);
            h = 8;
        }

        ref float start = ref MemoryMarshal.GetReference(x);
        for (; h < n; h <<= 1)
        {
            for (int block = 0; block < n; block += h << 1)
            {
                int i = 0;
                if (path == SimdPath.Vector512)
                {
                    for (; i + 16 <= h; i += 16)
                    {
                        ref float a = ref Unsafe.Add(ref start, block + i);
                        ref float b = ref Unsafe.Add(ref a, h);
                        var va = Vector512.LoadUnsafe(ref a);
                        var vb = Vector512.LoadUnsafe(ref b);
                        (va + vb).StoreUnsafe(ref a);
                        (va - vb).StoreUnsafe(ref b);
                    }
                }
                else if (path == SimdPath.Vector256)
                {
                    for (; i + 8 <= h; i += 8)
                    {
                        ref float a = ref Unsafe.Add(ref start, block + i);
                        ref float b = ref Unsafe.Add(ref a, h);
                        var va = Vector256.LoadUnsafe(ref a);
                        var vb = Vector256.LoadUnsafe(ref b);
                        (va + vb).StoreUnsafe(ref a);
                        (va - vb).StoreUnsafe(ref b);
                    }
                }

                for (; i < h; i++)
                {
                    ref float a = ref Unsafe.Add(ref start, block + i);
                    ref float b = ref Unsafe.Add(ref a, h);
                    float va = a, vb = b;
                    a = va + vb;
                    b = va - vb;
                }
            }
        }
    }

    // Strides 1, 2, 4, 8 inside one register: lane i becomes x[i ^ h] ± x[i]; the ±1 factor makes the FMA exact,
    // so the result is bit-identical to the scalar butterflies.
    private static void InRegister512(Span<float> x)
    {
        var p1 = Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
        var p2 = Vector512.Create(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
        var p4 = Vector512.Create(4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
        var p8 = Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
        var s1 = Vector512.Create(1f, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1);
        var s2 = Vector512.Create(1f, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1);
        var s4 = Vector512.Create(1f, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1);
        var s8 = Vector512.Create(1f, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1);
        ref float start = ref MemoryMarshal.GetReference(x);
        for (int i = 0; i < x.Length; i += 16)
        {
            ref float p = ref Unsafe.Add(ref start, i);
            var v = Vector512.LoadUnsafe(ref p);
            v = Avx512F.FusedMultiplyAdd(s1, v, Avx512F.PermuteVar16x32(v, p1));
            v = Avx512F.FusedMultiplyAdd(s2, v, Avx512F.PermuteVar16x32(v, p2));
            v = Avx512F.FusedMultiplyAdd(s4, v, Avx512F.PermuteVar16x32(v, p4));
            v = Avx512F.FusedMultiplyAdd(s8, v, Avx512F.PermuteVar16x32(v, p8));
            v.StoreUnsafe(ref p);
        }
    }

    private static void InRegister256(Span<float> x)
    {
        var p1 = Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6);
        var p2 = Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5);
        var p4 = Vector256.Create(4, 5, 6, 7, 0, 1, 2, 3);
        var s1 = Vector256.Create(1f, -1, 1, -1, 1, -1, 1, -1);
        var s2 = Vector256.Create(1f, 1, -1, -1, 1, 1, -1, -1);
        var s4 = Vector256.Create(1f, 1, 1, 1, -1, -1, -1, -1);
        ref float start = ref MemoryMarshal.GetReference(x);
        for (int i = 0; i < x.Length; i += 8)
        {
            ref float p = ref Unsafe.Add(ref start, i);
            var v = Vector256.LoadUnsafe(ref p);
            v = Fma.MultiplyAdd(s1, v, Avx2.PermuteVar8x32(v, p1));
            v = Fma.MultiplyAdd(s2, v, Avx2.PermuteVar8x32(v, p2));
            v = Fma.MultiplyAdd(s4, v, Avx2.PermuteVar8x32(v, p4));
            v.StoreUnsafe(ref p);
        }
    }
}
