using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Tq.Core.Threading;

namespace Tq.Core.Tensors;

/// <summary>
/// Matrix products of quantized weights with float activations: <c>y[t, r] = Σ_c W[r, c] · x[t, c]</c> for a batch
/// of token rows, split over a <see cref="WorkerPool"/>.
/// </summary>
/// <remarks>
/// Few tokens (decode): each activation row is quantized once to the weight type's <c>vec_dot_type</c> and every
/// weight row is dotted with it block by block (<see cref="QuantDot"/>), as ggml does.
/// Many tokens (prefill): a tile of weight rows is dequantized once into a transposed float tile and multiplied with
/// all tokens by a register-blocked FMA kernel. The activations are first rounded to what the dot product would
/// see (FP16, or the value d·q of their Q8 quantization), so both paths compute ggml's sum in exact arithmetic.
/// </remarks>
internal static unsafe class MatMul
{
    /// <summary>From this many tokens on, the tiled matrix-matrix kernel replaces per-row dot products.</summary>
    internal const int TiledMinTokens = 4;

    /// <summary>
    /// Computes <paramref name="output"/>[t·Rows + r] = Σ_c W[r, c]·<paramref name="input"/>[t·Cols + c] for
    /// t &lt; <paramref name="tokens"/>.
    /// </summary>
    /// <param name="weights">The weight matrix.</param>
    /// <param name="input"><paramref name="tokens"/> rows of <see cref="WeightMatrix.Cols"/> floats.</param>
    /// <param name="output"><paramref name="tokens"/> rows of <see cref="WeightMatrix.Rows"/> floats.</param>
    /// <param name="tokens">Number of activation rows (1 for decode).</param>
    /// <param name="pool">Threads to use; null runs on the calling thread.</param>
    /// <exception cref="ArgumentException">Spans too short, or activations with NaN/infinity for a quantized type.</exception>
    public static void Multiply(in WeightMatrix weights, ReadOnlySpan<float> input, Span<float> output, int tokens, WorkerPool? pool) =>
        Multiply(weights, input, output, tokens, pool, SimdPath.Auto, forceTiled: null);

    /// <summary><see cref="Multiply(in WeightMatrix, ReadOnlySpan{float}, Span{float}, int, WorkerPool?)"/> on a chosen path (tests).</summary>
    internal static void Multiply(in WeightMatrix weights, ReadOnlySpan<float> input, Span<float> output, int tokens, WorkerPool? pool, SimdPath path, bool? forceTiled)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        if (weights.Data == null)
        {
            throw new ArgumentException("The weight matrix is uninitialised.", nameof(weights));
        }

        int rows = weights.Rows, cols = weights.Cols;
        if (input.Length < (long)tokens * cols)
        {
            throw new ArgumentException($"The input holds {input.Length} floats; {tokens} tokens × {cols} columns are needed.", nameof(input));
        }

        if (output.Length < (long)tokens * rows)
        {
            throw new ArgumentException($"The output holds {output.Length} floats; {tokens} tokens × {rows} rows are needed.", nameof(output));
        }

        path = SimdPaths.Resolve(path);
        ActivationKind kind = ActivationQuantizer.KindFor(weights.Type);
        bool tiled = forceTiled ?? tokens >= TiledMinTokens;
        fixed (float* x = input)
        fixed (float* y = output)
        {
            // Prepare activations: quantized (per-row dot path) or their float value (tiled path).
            int xRowBytes = ActivationQuantizer.RowBytes(kind, cols);
            byte* quantized = kind == ActivationKind.Float ? (byte*)x : ThreadScratch.Get(ThreadScratch.Slot.Activations, (long)xRowBytes * tokens);
            float* values = x;
            if (tiled && kind != ActivationKind.Float)
            {
                values = (float*)ThreadScratch.Get(ThreadScratch.Slot.ActivationFloats, (long)tokens * cols * sizeof(float));
            }

            if (kind != ActivationKind.Float)
            {
                var prepare = new PrepareJob
                {
                    Kind = kind,
                    X = x,
                    Quantized = quantized,
                    Values = tiled ? values : null,
                    Cols = cols,
                    RowBytes = xRowBytes,
                };
                Run(pool, ref prepare, tokens);
            }

            if (tiled)
            {
                int tileRows = TileRows(path);
                var job = new TiledJob
                {
                    Weights = weights,
                    X = values,
                    Y = y,
                    Tokens = tokens,
                    TileRows = tileRows,
                    Path = path,
                };
                Run(pool, ref job, (rows + tileRows - 1) / tileRows);
            }
            else
            {
                int threads = pool?.ThreadCount ?? 1;
                int rowsPerItem = Math.Max(8, (rows + (threads * 4) - 1) / (threads * 4));
                var job = new RowDotJob
                {
                    Weights = weights,
                    X = quantized,
                    XRowBytes = xRowBytes,
                    Y = y,
                    Tokens = tokens,
                    RowsPerItem = rowsPerItem,
                    Path = path,
                };
                Run(pool, ref job, (rows + rowsPerItem - 1) / rowsPerItem);
            }
        }
    }

    /// <summary>Dequantizes row <paramref name="row"/> of <paramref name="weights"/> (ggml <c>get_rows</c>, e.g. token embeddings).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The row is outside the matrix.</exception>
    /// <exception cref="ArgumentException">The destination is shorter than a row.</exception>
    public static void GetRow(in WeightMatrix weights, int row, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, weights.Rows);
        if (destination.Length < weights.Cols)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats; a row has {weights.Cols}.", nameof(destination));
        }

        fixed (float* d = destination)
        {
            Dequantizer.Dequantize(weights.Type, weights.Row(row), d, weights.Cols, SimdPath.Auto);
        }
    }

    private static int TileRows(SimdPath path) => path switch
    {
        SimdPath.Vector512 => 32,
        _ => 16,
    };

    private static void Run<TJob>(WorkerPool? pool, ref TJob job, int count)
        where TJob : struct, IParallelJob
    {
        if (pool is null)
        {
            for (int i = 0; i < count; i++)
            {
                job.Execute(i);
            }
        }
        else
        {
            pool.Run(ref job, count);
        }
    }

    private struct PrepareJob : IParallelJob
    {
        public ActivationKind Kind;
        public float* X;
        public byte* Quantized;
        public float* Values;
        public int Cols;
        public int RowBytes;

        public readonly void Execute(int index)
        {
            byte* q = Quantized + ((long)index * RowBytes);
            ActivationQuantizer.QuantizeRow(Kind, X + ((long)index * Cols), q, Cols);
            if (Values != null)
            {
                ActivationQuantizer.DequantizeRow(Kind, q, Values + ((long)index * Cols), Cols);
            }
        }
    }

    private struct RowDotJob : IParallelJob
    {
        public WeightMatrix Weights;
        public byte* X;
        public int XRowBytes;
        public float* Y;
        public int Tokens;
        public int RowsPerItem;
        public SimdPath Path;

        public readonly void Execute(int index)
        {
            int rows = Weights.Rows;
            int r0 = index * RowsPerItem;
            int r1 = Math.Min(rows, r0 + RowsPerItem);
            GgmlType type = Weights.Type;
            int cols = Weights.Cols;
            for (int r = r0; r < r1; r++)
            {
                byte* w = Weights.Row(r);
                for (int t = 0; t < Tokens; t++)
                {
                    Y[((long)t * rows) + r] = QuantDot.Dot(type, w, X + ((long)t * XRowBytes), cols, Path);
                }
            }
        }
    }

    private struct TiledJob : IParallelJob
    {
        public WeightMatrix Weights;
        public float* X;
        public float* Y;
        public int Tokens;
        public int TileRows;
        public SimdPath Path;

        public readonly void Execute(int index)
        {
            int rows = Weights.Rows, cols = Weights.Cols, tileRows = TileRows;
            int r0 = index * tileRows;
            int n = Math.Min(tileRows, rows - r0);

            // Transposed tile: tile[c·tileRows + i] = W[r0 + i, c]; rows past the matrix are zero.
            float* tile = (float*)ThreadScratch.Get(ThreadScratch.Slot.Tile, (long)cols * tileRows * sizeof(float));
            float* row = (float*)ThreadScratch.Get(ThreadScratch.Slot.Row, (long)cols * sizeof(float));
            for (int i = 0; i < tileRows; i++)
            {
                if (i < n)
                {
                    Dequantizer.Dequantize(Weights.Type, Weights.Row(r0 + i), row, cols, Path);
                    for (int c = 0; c < cols; c++)
                    {
                        tile[(c * tileRows) + i] = row[c];
                    }
                }
                else
                {
                    for (int c = 0; c < cols; c++)
                    {
                        tile[(c * tileRows) + i] = 0;
                    }
                }
            }

            float* outTile = stackalloc float[32 * 8];
            int t = 0;
            if (Path == SimdPath.Vector512)
            {
                for (; t + 8 <= Tokens; t += 8)
                {
                    Kernel512x8(tile, X + ((long)t * cols), cols, outTile);
                    Store(outTile, 8, t, r0, n, rows);
                }

                for (; t < Tokens; t++)
                {
                    Kernel512x1(tile, X + ((long)t * cols), cols, outTile);
                    Store(outTile, 1, t, r0, n, rows);
                }
            }
            else if (Path == SimdPath.Vector256)
            {
                for (; t + 6 <= Tokens; t += 6)
                {
                    Kernel256x6(tile, X + ((long)t * cols), cols, outTile);
                    Store(outTile, 6, t, r0, n, rows);
                }

                for (; t < Tokens; t++)
                {
                    Kernel256x1(tile, X + ((long)t * cols), cols, outTile);
                    Store(outTile, 1, t, r0, n, rows);
                }
            }
            else
            {
                for (; t < Tokens; t++)
                {
                    float* x = X + ((long)t * cols);
                    for (int i = 0; i < tileRows; i++)
                    {
                        outTile[i] = 0;
                    }

                    for (int c = 0; c < cols; c++)
                    {
                        float xc = x[c];
                        float* w = tile + (c * tileRows);
                        for (int i = 0; i < tileRows; i++)
                        {
                            outTile[i] += xc * w[i];
                        }
                    }

                    Store(outTile, 1, t, r0, n, rows);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Store(float* outTile, int tokens, int t0, int r0, int n, int rows)
        {
            int tileRows = TileRows;
            for (int k = 0; k < tokens; k++)
            {
                float* dst = Y + ((long)(t0 + k) * rows) + r0;
                float* src = outTile + (k * tileRows);
                for (int i = 0; i < n; i++)
                {
                    dst[i] = src[i];
                }
            }
        }
    }

    // 8 tokens × 32 rows: 16 accumulators, two weight vectors and one broadcast per column.
    private static void Kernel512x8(float* tile, float* x, int cols, float* output)
    {
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
        float* x0 = x, x1 = x + cols, x2 = x + (2 * cols), x3 = x + (3 * cols), x4 = x + (4 * cols), x5 = x + (5 * cols), x6 = x + (6 * cols), x7 = x + (7 * cols);
        for (int c = 0; c < cols; c++)
        {
            Vector512<float> w0 = Vector512.Load(tile + (c * 32));
            Vector512<float> w1 = Vector512.Load(tile + (c * 32) + 16);
            Vector512<float> b = Vector512.Create(x0[c]);
            a00 = Vector512.FusedMultiplyAdd(b, w0, a00); a01 = Vector512.FusedMultiplyAdd(b, w1, a01);
            b = Vector512.Create(x1[c]);
            a10 = Vector512.FusedMultiplyAdd(b, w0, a10); a11 = Vector512.FusedMultiplyAdd(b, w1, a11);
            b = Vector512.Create(x2[c]);
            a20 = Vector512.FusedMultiplyAdd(b, w0, a20); a21 = Vector512.FusedMultiplyAdd(b, w1, a21);
            b = Vector512.Create(x3[c]);
            a30 = Vector512.FusedMultiplyAdd(b, w0, a30); a31 = Vector512.FusedMultiplyAdd(b, w1, a31);
            b = Vector512.Create(x4[c]);
            a40 = Vector512.FusedMultiplyAdd(b, w0, a40); a41 = Vector512.FusedMultiplyAdd(b, w1, a41);
            b = Vector512.Create(x5[c]);
            a50 = Vector512.FusedMultiplyAdd(b, w0, a50); a51 = Vector512.FusedMultiplyAdd(b, w1, a51);
            b = Vector512.Create(x6[c]);
            a60 = Vector512.FusedMultiplyAdd(b, w0, a60); a61 = Vector512.FusedMultiplyAdd(b, w1, a61);
            b = Vector512.Create(x7[c]);
            a70 = Vector512.FusedMultiplyAdd(b, w0, a70); a71 = Vector512.FusedMultiplyAdd(b, w1, a71);
        }

        a00.Store(output); a01.Store(output + 16);
        a10.Store(output + 32); a11.Store(output + 48);
        a20.Store(output + 64); a21.Store(output + 80);
        a30.Store(output + 96); a31.Store(output + 112);
        a40.Store(output + 128); a41.Store(output + 144);
        a50.Store(output + 160); a51.Store(output + 176);
        a60.Store(output + 192); a61.Store(output + 208);
        a70.Store(output + 224); a71.Store(output + 240);
    }

    private static void Kernel512x1(float* tile, float* x, int cols, float* output)
    {
        Vector512<float> a0 = default, a1 = default;
        for (int c = 0; c < cols; c++)
        {
            Vector512<float> b = Vector512.Create(x[c]);
            a0 = Vector512.FusedMultiplyAdd(b, Vector512.Load(tile + (c * 32)), a0);
            a1 = Vector512.FusedMultiplyAdd(b, Vector512.Load(tile + (c * 32) + 16), a1);
        }

        a0.Store(output);
        a1.Store(output + 16);
    }

    // 6 tokens × 16 rows: 12 of the 16 ymm registers hold accumulators.
    private static void Kernel256x6(float* tile, float* x, int cols, float* output)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        float* x0 = x, x1 = x + cols, x2 = x + (2 * cols), x3 = x + (3 * cols), x4 = x + (4 * cols), x5 = x + (5 * cols);
        for (int c = 0; c < cols; c++)
        {
            Vector256<float> w0 = Vector256.Load(tile + (c * 16));
            Vector256<float> w1 = Vector256.Load(tile + (c * 16) + 8);
            Vector256<float> b = Vector256.Create(x0[c]);
            a00 = Vector256.FusedMultiplyAdd(b, w0, a00); a01 = Vector256.FusedMultiplyAdd(b, w1, a01);
            b = Vector256.Create(x1[c]);
            a10 = Vector256.FusedMultiplyAdd(b, w0, a10); a11 = Vector256.FusedMultiplyAdd(b, w1, a11);
            b = Vector256.Create(x2[c]);
            a20 = Vector256.FusedMultiplyAdd(b, w0, a20); a21 = Vector256.FusedMultiplyAdd(b, w1, a21);
            b = Vector256.Create(x3[c]);
            a30 = Vector256.FusedMultiplyAdd(b, w0, a30); a31 = Vector256.FusedMultiplyAdd(b, w1, a31);
            b = Vector256.Create(x4[c]);
            a40 = Vector256.FusedMultiplyAdd(b, w0, a40); a41 = Vector256.FusedMultiplyAdd(b, w1, a41);
            b = Vector256.Create(x5[c]);
            a50 = Vector256.FusedMultiplyAdd(b, w0, a50); a51 = Vector256.FusedMultiplyAdd(b, w1, a51);
        }

        a00.Store(output); a01.Store(output + 8);
        a10.Store(output + 16); a11.Store(output + 24);
        a20.Store(output + 32); a21.Store(output + 40);
        a30.Store(output + 48); a31.Store(output + 56);
        a40.Store(output + 64); a41.Store(output + 72);
        a50.Store(output + 80); a51.Store(output + 88);
    }

    private static void Kernel256x1(float* tile, float* x, int cols, float* output)
    {
        Vector256<float> a0 = default, a1 = default;
        for (int c = 0; c < cols; c++)
        {
            Vector256<float> b = Vector256.Create(x[c]);
            a0 = Vector256.FusedMultiplyAdd(b, Vector256.Load(tile + (c * 16)), a0);
            a1 = Vector256.FusedMultiplyAdd(b, Vector256.Load(tile + (c * 16) + 8), a1);
        }

        a0.Store(output);
        a1.Store(output + 8);
    }
}
