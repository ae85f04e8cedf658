using Tq.Testing;
using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Core.Tests.Tensors;

public sealed unsafe class MatMulTests : IDisposable
{
    private readonly WorkerPool _pool = new(3);

    public static TheoryData<GgmlType> Types => GgmlReference.SupportedTypeData();

    public void Dispose() => _pool.Dispose();

    [Theory]
    [MemberData(nameof(Types))]
    public void Multiply_DecodeRows_EqualTheSingleRowDotExactly(GgmlType type)
    {
        // The decode kernels take rows four at a time (QuantDot.Rows4.cs), and several sequences' decode rows four
        // activation rows at a time (QuantDot.Tokens4.cs): a row's sum must not depend on whether it fell in a group of
        // four or in the remainder, on the matrix it was stacked with, or on the other sequences of the pass.
        var random = new Random(900 + (int)type);
        int block = GgmlTypeInfo.BlockSize(type);
        int cols = block == 1 ? 2048 + 16 + 3 : 8 * block;
        const int rows = 37;
        byte[] w = GgmlReference.RandomRow(type, rows * cols, random);
        long rowBytes = GgmlTypeInfo.RowSize(type, cols);
        foreach (int tokens in (int[])[1, 2, 3, 6])
        {
            float[] x = GgmlReference.RandomFloats(tokens * cols, random);
            byte[][] prepared = [.. Enumerable.Range(0, tokens).Select(t => QuantDotTests.Prepare(type, x[(t * cols)..((t + 1) * cols)], out _))];
            fixed (byte* pw = w)
            {
                var matrix = new WeightMatrix(type, rows, cols, pw, w.Length);
                foreach (SimdPath path in SimdPaths.Supported)
                {
                    float[] y = new float[tokens * rows];
                    MatMul.Multiply(matrix, x, y, tokens, _pool, path, forceTiled: false);
                    for (int t = 0; t < tokens; t++)
                    {
                        fixed (byte* pa = prepared[t])
                        {
                            for (int r = 0; r < rows; r++)
                            {
                                Assert.Equal(QuantDot.Dot(type, pw + (r * rowBytes), pa, cols, path), y[(t * rows) + r]);
                            }
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Multiply_EveryPathAndBatch_MatchesNaiveReference(GgmlType type)
    {
        var random = new Random(300 + (int)type);
        int cols = GgmlTypeInfo.BlockSize(type) == 1 ? 45 : 2 * GgmlTypeInfo.BlockSize(type);
        const int rows = 37; // not a multiple of any tile height, thread count or item size
        byte[] w = GgmlReference.RandomRow(type, rows * cols, random);
        float[] dequantized = new float[rows * cols];
        for (int i = 0; i < dequantized.Length; i++)
        {
            dequantized[i] = GgmlReference.Element(type, w, i);
        }

        fixed (byte* pw = w)
        {
            var matrix = new WeightMatrix(type, rows, cols, pw, w.Length);
            foreach (int tokens in new[] { 1, 3, 4, 9, 17 })
            {
                float[] x = GgmlReference.RandomFloats(tokens * cols, random);
                float[] expected = new float[tokens * rows];
                double[] magnitude = new double[tokens * rows];
                for (int t = 0; t < tokens; t++)
                {
                    float[] xt = x.AsSpan(t * cols, cols).ToArray();
                    byte[] prepared = QuantDotTests.Prepare(type, xt, out float[] xr);
                    for (int r = 0; r < rows; r++)
                    {
                        double s = 0, m = 0;
                        for (int c = 0; c < cols; c++)
                        {
                            double p = (double)dequantized[(r * cols) + c] * xr[c];
                            s += p;
                            m += Math.Abs(p);
                        }

                        expected[(t * rows) + r] = (float)s;
                        magnitude[(t * rows) + r] = m + QuantDotTests.MinTermRounding(type, w.AsSpan(r * (int)GgmlTypeInfo.RowSize(type, cols)).ToArray(), prepared, cols);
                    }
                }

                foreach (SimdPath path in SimdPaths.Supported)
                {
                    foreach (bool tiled in new[] { false, true })
                    {
                        foreach (WorkerPool? pool in new[] { null, _pool })
                        {
                            float[] y = new float[(tokens * rows) + 1];
                            y[^1] = 12345f;
                            MatMul.Multiply(matrix, x, y, tokens, pool, path, tiled);
                            Assert.Equal(12345f, y[^1]);
                            for (int i = 0; i < tokens * rows; i++)
                            {
                                Assert.True(Math.Abs(y[i] - expected[i]) <= (3e-6 * magnitude[i]) + 1e-6,
                                    $"{type} {path} tiled={tiled} tokens={tokens} pool={pool is not null} [{i}]: {y[i]} vs {expected[i]}");
                            }
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void GetRow_AnyRow_EqualsGgmlElements(GgmlType type)
    {
        int cols = GgmlTypeInfo.BlockSize(type) == 1 ? 20 : GgmlTypeInfo.BlockSize(type);
        byte[] w = GgmlReference.RandomRow(type, 5 * cols, new Random(9));
        fixed (byte* pw = w)
        {
            var matrix = new WeightMatrix(type, 5, cols, pw, w.Length);
            float[] row = new float[cols];
            MatMul.GetRow(matrix, 3, row);
            for (int c = 0; c < cols; c++)
            {
                Assert.Equal(GgmlReference.Element(type, w, (3 * cols) + c), row[c]);
            }

            Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.GetRow(matrix, 5, row));
            Assert.Throws<ArgumentException>(() => MatMul.GetRow(matrix, 0, new float[cols - 1]));
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q4_K)]
    [InlineData(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_1)]
    [InlineData(GgmlType.F16, GgmlType.F16, GgmlType.F16)]
    public void Multiply_StackedMatrices_EqualsSeparateProducts(GgmlType a, GgmlType b, GgmlType c)
    {
        var random = new Random(11);
        GgmlType[] types = [a, b, c];
        int[] rows = [40, 17, 33];
        const int cols = 256;
        byte[][] data = types.Select((t, i) => GgmlReference.RandomRow(t, rows[i] * cols, random)).ToArray();
        int total = rows.Sum();
        fixed (byte* p0 = data[0])
        fixed (byte* p1 = data[1])
        fixed (byte* p2 = data[2])
        {
            WeightMatrix[] matrices =
            [
                new(a, rows[0], cols, p0, data[0].Length), new(b, rows[1], cols, p1, data[1].Length), new(c, rows[2], cols, p2, data[2].Length),
            ];
            foreach (int tokens in new[] { 1, 2, 11 })
            {
                float[] x = GgmlReference.RandomFloats(tokens * cols, random);
                foreach (SimdPath path in SimdPaths.Supported)
                {
                    float[] stacked = new float[tokens * total];
                    MatMul.Multiply(matrices, x, stacked, tokens, _pool, path, forceTiled: null);
                    int offset = 0;
                    for (int m = 0; m < 3; m++)
                    {
                        float[] single = new float[tokens * rows[m]];
                        MatMul.Multiply(matrices[m], x, single, tokens, null, path, forceTiled: null);
                        for (int t = 0; t < tokens; t++)
                        {
                            for (int r = 0; r < rows[m]; r++)
                            {
                                Assert.Equal(single[(t * rows[m]) + r], stacked[(t * total) + offset + r]);
                            }
                        }

                        offset += rows[m];
                    }
                }
            }
        }
    }

    [Fact]
    public void Multiply_StackedWithDifferentActivationForms_Throws()
    {
        byte[] q8 = new byte[34 * 8];
        byte[] f16 = new byte[64 * 8];
        fixed (byte* p0 = q8)
        fixed (byte* p1 = f16)
        {
            WeightMatrix[] matrices = [new(GgmlType.Q8_0, 8, 32, p0, q8.Length), new(GgmlType.F16, 8, 32, p1, f16.Length)];
            Assert.Throws<ArgumentException>(() => MatMul.Multiply(matrices, new float[32], new float[16], 1, null));
        }
    }

    [Theory]
    [InlineData(GgmlType.F16, 1)]
    [InlineData(GgmlType.Q8_0, 1)]
    [InlineData(GgmlType.Q4_K, 1)]
    [InlineData(GgmlType.F16, 64)]
    [InlineData(GgmlType.Q6_K, 64)]
    public void Multiply_Warm_AllocatesNothingOnTheCallingThread(GgmlType type, int tokens)
    {
        const int rows = 96, cols = 256;
        byte[] w = GgmlReference.RandomRow(type, rows * cols, new Random(3));
        float[] x = GgmlReference.RandomFloats(tokens * cols, new Random(4));
        float[] y = new float[tokens * rows];
        fixed (byte* pw = w)
        {
            var matrix = new WeightMatrix(type, rows, cols, pw, w.Length);
            var scratch = new KernelScratch();
            MatMul.Multiply(matrix, x, y, tokens, _pool, scratch);
            WeightMatrix* m = &matrix;
            Assert.Equal(0, SteadyState.AllocatedBytes(() => MatMul.Multiply(*m, x, y, tokens, _pool, scratch)));
        }
    }

    [Fact]
    public void Transpose16x16_Block_IsTransposed()
    {
        if (!SimdPaths.Vector512Supported)
        {
            Assert.Fail("This test needs AVX-512 hardware, which CI machines here have.");
        }

        float[] source = Enumerable.Range(0, 16 * 20).Select(i => (float)i).ToArray();
        float[] destination = new float[16 * 24];
        fixed (float* s = source)
        fixed (float* d = destination)
        {
            MatMul.Transpose16x16(s + 2, 20, d + 1, 24);
        }

        for (int i = 0; i < 16; i++)
        {
            for (int j = 0; j < 16; j++)
            {
                Assert.Equal(source[(i * 20) + 2 + j], destination[(j * 24) + 1 + i]);
            }
        }
    }

    [Fact]
    public void Multiply_ShortSpans_ThrowArgumentException()
    {
        byte[] w = new byte[4 * 34];
        fixed (byte* pw = w)
        {
            var matrix = new WeightMatrix(GgmlType.Q8_0, 4, 32, pw, w.Length);
            Assert.Throws<ArgumentException>(() => MatMul.Multiply(matrix, new float[63], new float[8], 2, null));
            Assert.Throws<ArgumentException>(() => MatMul.Multiply(matrix, new float[64], new float[7], 2, null));
            Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Multiply(matrix, new float[64], new float[8], 0, null));
        }
    }

    [Fact]
    public void WeightMatrix_BadShapeOrType_Throws()
    {
        byte[] w = new byte[1024];
        fixed (byte* pw = w)
        {
            byte* p = pw;
            var ex = Assert.Throws<NotSupportedException>(() => new WeightMatrix(GgmlType.IQ2_XXS, 1, 256, p, 1024));
            Assert.Contains("IQ2_XXS", ex.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => new WeightMatrix(GgmlType.Q4_0, 1, 33, p, 1024));
            Assert.Throws<ArgumentException>(() => new WeightMatrix(GgmlType.Q4_0, 100, 32, p, 1024));
        }
    }
}
