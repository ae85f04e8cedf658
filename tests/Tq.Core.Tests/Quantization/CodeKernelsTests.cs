using Tq.Core.Quantization;
using Tq.Core.Tensors;

namespace Tq.Core.Tests.Quantization;

public sealed class CodeKernelsTests
{
    private static readonly int[] s_counts =
        [.. Enumerable.Range(0, 41), 47, 63, 64, 65, 96, 127, 128, 129, 255, 256, 257, 384, 511, 512, 513, 1024, 1100];

    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        for (int b = 1; b <= 4; b++)
        {
            foreach (SimdPath p in SimdPaths.Supported)
            {
                data.Add(b, (int)p);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DotRows_EveryCount_MatchesScalar(int bits, int pathValue)
    {
        var path = (SimdPath)pathValue;
        var random = new DeterministicRandom(11);
        float[] table = MakeTable(bits, ref random);
        foreach (int count in s_counts)
        {
            const int rows = 3;
            (byte[] packed, int stride) = MakeRows(rows, count, bits, ref random);
            float[] query = Gaussian(count, ref random);
            var prepared = new float[CodeKernels.PreparedLength(count, bits, path)];
            CodeKernels.Arrange(query, bits, path, prepared);

            var expected = new float[rows];
            var actual = new float[rows];
            CodeKernels.DotRows(packed, stride, 0, count, bits, table, query, expected, accumulate: false, SimdPath.Scalar);
            CodeKernels.DotRows(packed, stride, 0, count, bits, table, prepared, actual, accumulate: false, path);
            for (int r = 0; r < rows; r++)
            {
                Assert.True(Math.Abs(expected[r] - actual[r]) <= 1e-4f * (1 + Math.Sqrt(count)), $"bits {bits}, count {count}, row {r}: {expected[r]} vs {actual[r]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AccumulateRows_EveryCount_MatchesScalar(int bits, int pathValue)
    {
        var path = (SimdPath)pathValue;
        var random = new DeterministicRandom(12);
        float[] table = MakeTable(bits, ref random);
        foreach (int count in s_counts)
        {
            const int rows = 5;
            (byte[] packed, int stride) = MakeRows(rows, count, bits, ref random);
            float[] weights = Gaussian(rows, ref random);
            float[] start = Gaussian(count, ref random);

            float[] expected = (float[])start.Clone();
            CodeKernels.AccumulateRows(packed, stride, 0, count, bits, table, weights, expected, SimdPath.Scalar);

            var accumulator = new float[CodeKernels.PreparedLength(count, bits, path)];
            CodeKernels.Arrange(start, bits, path, accumulator);
            CodeKernels.AccumulateRows(packed, stride, 0, count, bits, table, weights, accumulator, path);
            var actual = new float[count];
            CodeKernels.Unarrange(accumulator, bits, path, actual);
            for (int i = 0; i < count; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"bits {bits}, count {count}, index {i}: {expected[i]} vs {actual[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Quantize_EveryCount_MatchesScalar(int bits, int pathValue)
    {
        var path = (SimdPath)pathValue;
        var book = LloydMaxCodebook.Get(64, bits);
        var random = new DeterministicRandom(13);
        foreach (int count in s_counts)
        {
            float[] values = Gaussian(count, ref random);
            for (int i = 0; i < count; i++)
            {
                values[i] *= 0.125f;
            }

            if (count > 2)
            {
                values[1] = book.BoundariesSingle[0]; // exactly on a boundary: the lower code on every path
            }

            var expected = new byte[count];
            var actual = new byte[count];
            float[] boundaryTable = CodeKernels.BoundaryTable(book.BoundariesSingle);
            var squares = new float[16];
            CodeKernels.FillTable(book.CentroidsSingle.ToArray().Select(c => c * c).ToArray(), squares);
            float expectedSum = CodeKernels.Quantize(values, book.BoundariesSingle, boundaryTable, squares, expected, SimdPath.Scalar);
            float actualSum = CodeKernels.Quantize(values, book.BoundariesSingle, boundaryTable, squares, actual, path);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedSum, actualSum, 1e-4f * (1 + expectedSum));
            Assert.Equal(0f, CodeKernels.Quantize(values, book.BoundariesSingle, boundaryTable, default, actual, path));
            double direct = 0;
            foreach (byte c in expected)
            {
                direct += squares[c];
            }

            Assert.Equal(direct, expectedSum, 1e-4 * (1 + direct));
            for (int i = 0; i < count; i++)
            {
                int below = book.BoundariesSingle.ToArray().Count(b => values[i] > b);
                Assert.Equal(below, expected[i]);
            }
        }
    }

    private static float[] MakeTable(int bits, ref DeterministicRandom random)
    {
        float[] values = Gaussian(1 << bits, ref random);
        var table = new float[16];
        CodeKernels.FillTable(values, table);
        return table;
    }

    private static (byte[] Packed, int Stride) MakeRows(int rows, int count, int bits, ref DeterministicRandom random)
    {
        int stride = BitPacking.PackedLength(count, bits);
        var packed = new byte[rows * stride];
        var codes = new byte[count];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < count; i++)
            {
                codes[i] = (byte)(random.NextUInt64() & ((1UL << bits) - 1));
            }

            BitPacking.Pack(codes, bits, packed.AsSpan(r * stride, stride));
        }

        return (packed, stride);
    }

    private static float[] Gaussian(int n, ref DeterministicRandom random)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)random.NextGaussian();
        }

        return x;
    }
}
