using Tq.Core.Quantization;
using Tq.Core.Tensors;

namespace Tq.Core.Tests.Quantization;

public sealed class RandomRotationTests
{
    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        foreach (int d in new[] { 2, 4, 8, 16, 64, 128, 256, 3, 80, 96, 112 })
        {
            foreach (SimdPath p in SimdPaths.Supported)
            {
                data.Add(d, (int)p);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rotate_BasisVectors_GivesOrthonormalColumns(int dimension, int path)
    {
        var rotation = RandomRotation.Create(dimension, 42, (SimdPath)path);
        var columns = new float[dimension][];
        for (int j = 0; j < dimension; j++)
        {
            var e = new float[dimension];
            e[j] = 1;
            columns[j] = new float[dimension];
            rotation.Rotate(e, columns[j]);
        }

        for (int i = 0; i < dimension; i++)
        {
            for (int j = i; j < dimension; j++)
            {
                double dot = 0;
                for (int k = 0; k < dimension; k++)
                {
                    dot += columns[i][k] * columns[j][k];
                }

                Assert.Equal(i == j ? 1.0 : 0.0, dot, 1e-5);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InverseRotate_AfterRotate_ReturnsInput(int dimension, int path)
    {
        var rotation = RandomRotation.Create(dimension, 7, (SimdPath)path);
        var random = new DeterministicRandom(1);
        var x = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            x[i] = (float)random.NextGaussian();
        }

        var y = new float[dimension];
        var back = new float[dimension];
        rotation.Rotate(x, y);
        rotation.InverseRotate(y, back);
        for (int i = 0; i < dimension; i++)
        {
            Assert.Equal(x[i], back[i], 1e-5);
        }

        // In place gives the same result.
        var inPlace = (float[])x.Clone();
        rotation.Rotate(inPlace, inPlace);
        Assert.Equal(y, inPlace);
    }

    [Theory]
    [InlineData(128)]
    [InlineData(96)]
    public void Create_SameSeed_SameTransformDifferentSeedDifferent(int dimension)
    {
        var x = new float[dimension];
        var random = new DeterministicRandom(2);
        for (int i = 0; i < dimension; i++)
        {
            x[i] = (float)random.NextGaussian();
        }

        float[] a = Apply(RandomRotation.Create(dimension, 5, SimdPath.Scalar), x);
        float[] b = Apply(RandomRotation.Create(dimension, 5, SimdPath.Scalar), x);
        float[] c = Apply(RandomRotation.Create(dimension, 6, SimdPath.Scalar), x);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(16, 1)]
    [InlineData(128, 1)]
    [InlineData(256, 2)]
    [InlineData(96, 1)]
    public void Rotate_EverySimdPath_MatchesScalar(int dimension, int rounds)
    {
        var x = new float[dimension];
        var random = new DeterministicRandom(3);
        for (int i = 0; i < dimension; i++)
        {
            x[i] = (float)random.NextGaussian();
        }

        float[] expected = Apply(RandomRotation.Create(dimension, 9, SimdPath.Scalar, rounds), x);
        foreach (SimdPath path in SimdPaths.Supported)
        {
            float[] actual = Apply(RandomRotation.Create(dimension, 9, path, rounds), x);
            for (int i = 0; i < dimension; i++)
            {
                // The Hadamard butterflies are bit-identical; the Haar matrix product only differs by summation order.
                Assert.Equal(expected[i], actual[i], (dimension & (dimension - 1)) == 0 ? 0f : 1e-5f);
            }
        }
    }

    [Fact]
    public void Create_PowerOfTwo_UsesHadamardOtherwiseHaar()
    {
        Assert.IsType<HadamardRotation>(RandomRotation.Create(128, 1));
        Assert.IsType<HaarRotation>(RandomRotation.Create(80, 1));
    }

    private static float[] Apply(RandomRotation rotation, float[] x)
    {
        var y = new float[x.Length];
        rotation.Rotate(x, y);
        return y;
    }
}
