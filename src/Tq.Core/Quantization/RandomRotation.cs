using Tq.Core.Tensors;

namespace Tq.Core.Quantization;

/// <summary>
/// A seeded random orthogonal transform R of ℝ^d with its exact inverse Rᵀ. Power-of-two dimensions use a randomized
/// Walsh-Hadamard transform (O(d log d)); other dimensions use a Haar-random orthogonal matrix (O(d²)).
/// </summary>
/// <remarks>Instances are immutable and safe to use from several threads.</remarks>
internal abstract class RandomRotation
{
    protected RandomRotation(int dimension, ulong seed)
    {
        Dimension = dimension;
        Seed = seed;
    }

    /// <summary>The dimension d.</summary>
    public int Dimension { get; }

    /// <summary>The seed the transform was drawn from.</summary>
    public ulong Seed { get; }

    /// <summary>Creates the rotation for a dimension: randomized Hadamard when d is a power of two, else Haar.</summary>
    /// <param name="dimension">d ≥ 2.</param>
    /// <param name="seed">Seed of the random draw; equal seeds give equal transforms on every machine.</param>
    /// <param name="path">Kernel path (tests force each one).</param>
    /// <param name="hadamardRounds">For power-of-two d, how many (random signs, WHT) rounds to chain.</param>
    public static RandomRotation Create(int dimension, ulong seed, SimdPath path = SimdPath.Auto, int hadamardRounds = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 2);
        return (dimension & (dimension - 1)) == 0
            ? new HadamardRotation(dimension, seed, hadamardRounds, path)
            : new HaarRotation(dimension, seed, path);
    }

    /// <summary>y = R x. <paramref name="x"/> and <paramref name="y"/> may be the same span.</summary>
    public abstract void Rotate(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>x = Rᵀ y, the exact inverse of <see cref="Rotate"/>. The spans may be the same.</summary>
    public abstract void InverseRotate(ReadOnlySpan<float> y, Span<float> x);

    protected void CheckLengths(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.Length != Dimension)
        {
            throw new ArgumentException($"Expected a vector of length {Dimension}, got {source.Length}.", nameof(source));
        }

        if (destination.Length != Dimension)
        {
            throw new ArgumentException($"Expected a destination of length {Dimension}, got {destination.Length}.", nameof(destination));
        }
    }
}
