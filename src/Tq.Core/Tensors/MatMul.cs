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
/// Several matrices that share one input (Q/K/V, gate/up) can be multiplied in one call, as if stacked into one
/// matrix: the activations are prepared once and the pool is dispatched once.
/// </remarks>
internal static unsafe class MatMul
{
    /// <summary>From this many tokens on, the tiled matrix-matrix kernel replaces per-row dot products.</summary>
    internal const int TiledMinTokens = 4;

    /// <summary>Most matrices one stacked call takes.</summary>
    public const int MaxStacked = 8;

    /// <summary>
    /// Computes <paramref name="output"/>[t·Rows + r] = Σ_c W[r, c]·<paramref name="input"/>[t·Cols + c] for
    /// t &lt; <paramref name="tokens"/>.
    /// </summary>
    /// <param name="weights">The weight matrix.</param>
    /// <param name="input"><paramref name="tokens"/> rows of <see cref="WeightMatrix.Cols"/> floats.</param>
    /// <param name="output"><paramref name="tokens"/> rows of <see cref="WeightMatrix.Rows"/> floats.</param>
    /// <param name="tokens">Number of activation rows (1 for decode).</param>
    /// <param name="pool">Threads to use; null runs on the calling thread.</param>
    /// <param name="scratch">The caller's scratch (see <see cref="KernelScratch"/>); null gives the call one of its own, which allocates.</param>
    /// <exception cref="ArgumentException">Spans too short, or activations with NaN/infinity for a quantized type.</exception>
    public static void Multiply(in WeightMatrix weights, ReadOnlySpan<float> input, Span<float> output, int tokens, WorkerPool? pool, KernelScratch? scratch = null) =>
        Multiply(new ReadOnlySpan<WeightMatrix>(in weights), input, output, tokens, pool, SimdPath.Auto, forceTiled: null, scratch);

    /// <summary>
    /// Multiplies several matrices with the same input as if they were stacked into one matrix of Σ Rows rows:
    /// output row t is [W₀·x_t | W₁·x_t | …], <paramref name="output"/>[t·ΣRows + offset_m + r]. All matrices need the
    /// same column count and the same activation form (e.g. all K-quants, or all Q8_0/Q4_0).
    /// </summary>
    /// <exception cref="ArgumentException">Mismatched columns or activation forms, more than <see cref="MaxStacked"/> matrices, or short spans.</exception>
    public static void Multiply(ReadOnlySpan<WeightMatrix> weights, ReadOnlySpan<float> input, Span<float> output, int tokens, WorkerPool? pool, KernelScratch? scratch = null) =>
        Multiply(weights, input, output, tokens, pool, SimdPath.Auto, forceTiled: null, scratch);

    /// <summary><see cref="Multiply(in WeightMatrix, ReadOnlySpan{float}, Span{float}, int, WorkerPool?, KernelScratch?)"/> on a chosen path (forward passes, tests).</summary>
    internal static void Multiply(in WeightMatrix weights, ReadOnlySpan<float> input, Span<float> output, int tokens, WorkerPool? pool, SimdPath path, bool? forceTiled, KernelScratch? scratch = null) =>
        Multiply(new ReadOnlySpan<WeightMatrix>(in weights), input, output, tokens, pool, path, forceTiled, scratch);

    /// <summary>The stacked product on a chosen path (tests).</summary>
    internal static void Multiply(ReadOnlySpan<WeightMatrix> weights, ReadOnlySpan<float> input, Span<float> output, int tokens, WorkerPool? pool, SimdPath path, bool? forceTiled, KernelScratch? scratch = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        if (weights.IsEmpty || weights.Length > MaxStacked)
        {
            throw new ArgumentException($"Between 1 and {MaxStacked} matrices can be multiplied in one call; {weights.Length} given.", nameof(weights));
        }

        int cols = weights[0].Cols;
        ActivationKind kind = ActivationQuantizer.KindFor(weights[0].Type);
        int totalRows = 0;
        foreach (ref readonly WeightMatrix w in weights)
        {
            if (w.Data == null)
            {
                throw new ArgumentException("A weight matrix is uninitialised.", nameof(weights));
            }

            if (w.Cols != cols || ActivationQuantizer.KindFor(w.Type) != kind)
            {
                throw new ArgumentException($"Stacked matrices need the same columns and activation form: {weights[0].Type} with {cols} columns vs {w.Type} with {w.Cols}.", nameof(weights));
            }

            totalRows += w.Rows;
        }

        if (input.Length < (long)tokens * cols)
        {
            throw new ArgumentException($"The input holds {input.Length} floats; {tokens} tokens × {cols} columns are needed.", nameof(input));
        }

        if (output.Length < (long)tokens * totalRows)
        {
            throw new ArgumentException($"The output holds {output.Length} floats; {tokens} tokens × {totalRows} rows are needed.", nameof(output));
        }

        path = SimdPaths.Resolve(path);
        bool tiled = forceTiled ?? tokens >= TiledMinTokens;
        scratch ??= new KernelScratch();
        fixed (WeightMatrix* matrices = weights)
        fixed (float* x = input)
        fixed (float* y = output)
        {
            // Prepare activations: quantized (per-row dot path) or their float value (tiled path).
            int xRowBytes = ActivationQuantizer.RowBytes(kind, cols);
            byte* quantized = kind == ActivationKind.Float ? (byte*)x : scratch.Get(KernelScratch.Slot.Activations, (long)xRowBytes * tokens);
            float* values = x;
            if (tiled && kind != ActivationKind.Float)
            {
                values = (float*)scratch.Get(KernelScratch.Slot.ActivationFloats, (long)tokens * cols * sizeof(float));
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
                WorkerPool.RunOrInline(pool, ref prepare, tokens);
            }

            if (tiled)
            {
                int tileRows = TileRows(path);
                int tiles = 0;
                foreach (ref readonly WeightMatrix w in weights)
                {
                    tiles += (w.Rows + tileRows - 1) / tileRows;
                }

                var job = new TiledJob
                {
                    Matrices = matrices,
                    MatrixCount = weights.Length,
                    TotalRows = totalRows,
                    X = values,
                    Y = y,
                    Tokens = tokens,
                    TileRows = tileRows,
                    Path = path,
                    Caller = scratch,
                };
                WorkerPool.RunOrInline(pool, ref job, tiles);
            }
            else
            {
                int threads = pool?.ThreadCount ?? 1;
                int rowsPerItem = (Math.Max(8, (totalRows + (threads * 4) - 1) / (threads * 4)) + 3) & ~3;
                var job = new RowDotJob
                {
                    Matrices = matrices,
                    MatrixCount = weights.Length,
                    TotalRows = totalRows,
                    X = quantized,
                    XRowBytes = xRowBytes,
                    Y = y,
                    Tokens = tokens,
                    RowsPerItem = rowsPerItem,
                    Path = path,
                };
                WorkerPool.RunOrInline(pool, ref job, (totalRows + rowsPerItem - 1) / rowsPerItem);
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

    private struct PrepareJob : IParallelJob
    {
        public ActivationKind Kind;
        public float* X;
        public byte* Quantized;
        public float* Values;
        public int Cols;
        public int RowBytes;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        public WeightMatrix* Matrices;
        public int MatrixCount;
        public int TotalRows;
        public byte* X;
        public int XRowBytes;
        public float* Y;
        public int Tokens;
        public int RowsPerItem;
        public SimdPath Path;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            int g0 = index * RowsPerItem;
            int g1 = Math.Min(TotalRows, g0 + RowsPerItem);
            int offset = 0;
            for (int m = 0; m < MatrixCount && offset < g1; m++)
            {
                WeightMatrix* w = Matrices + m;
                int start = Math.Max(g0, offset), end = Math.Min(g1, offset + w->Rows);
                GgmlType type = w->Type;
                int cols = w->Cols;
                int g = start;
                if (Tokens > 1 && QuantDot.HasTokens4Kernel(type, Path))
                {
                    // Several sequences' decode rows: each weight row is unpacked once for four activation rows.
                    for (; g < end; g++)
                    {
                        byte* row = w->Row(g - offset);
                        for (int t = 0; t < Tokens; t += 4)
                        {
                            QuantDot.DotTokens4(type, row, X + ((long)t * XRowBytes), XRowBytes, Math.Min(4, Tokens - t), cols, Y + ((long)t * TotalRows) + g, TotalRows);
                        }
                    }
                }
                else if (QuantDot.HasRows4Kernel(type, Path))
                {
                    // Four rows at a time: the decode kernels that stream weights at memory speed.
                    for (; g + 4 <= end; g += 4)
                    {
                        byte* row = w->Row(g - offset);
                        for (int t = 0; t < Tokens; t++)
                        {
                            QuantDot.DotRows4(type, row, w->RowBytes, X + ((long)t * XRowBytes), cols, Y + ((long)t * TotalRows) + g, 1);
                        }
                    }
                }

                for (; g < end; g++)
                {
                    byte* row = w->Row(g - offset);
                    for (int t = 0; t < Tokens; t++)
                    {
                        Y[((long)t * TotalRows) + g] = QuantDot.Dot(type, row, X + ((long)t * XRowBytes), cols, Path);
                    }
                }

                offset += w->Rows;
            }
        }
    }

    private struct TiledJob : IParallelJob
    {
        public WeightMatrix* Matrices;
        public int MatrixCount;
        public int TotalRows;
        public float* X;
        public float* Y;
        public int Tokens;
        public int TileRows;
        public SimdPath Path;
        public KernelScratch Caller;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            // Find the matrix and tile of this item; rowOffset is the matrix's first row in the stacked output.
            int tileRows = TileRows;
            int m = 0, rowOffset = 0;
            int tilesOfMatrix = (Matrices[0].Rows + tileRows - 1) / tileRows;
            while (index >= tilesOfMatrix)
            {
                index -= tilesOfMatrix;
                rowOffset += Matrices[m].Rows;
                m++;
                tilesOfMatrix = (Matrices[m].Rows + tileRows - 1) / tileRows;
            }

            WeightMatrix* w = Matrices + m;
            int cols = w->Cols;
            int r0 = index * tileRows;
            int n = Math.Min(tileRows, w->Rows - r0);

            // Transposed tile: tile[c·tileRows + i] = W[r0 + i, c]; rows past the matrix are zero.
            KernelScratch scratch = KernelScratch.ForItem(Caller);
            float* tile = (float*)scratch.Get(KernelScratch.Slot.Tile, (long)cols * tileRows * sizeof(float));
            if (Path == SimdPath.Vector512)
            {
                BuildTile512(w, r0, n, tile, scratch);
            }
            else
            {
                BuildTile(w, r0, n, tile, scratch);
            }

            float* outTile = stackalloc float[32 * 8];
            int outputRow = rowOffset + r0;
            int t = 0;
            if (Path == SimdPath.Vector512)
            {
                for (; t + 8 <= Tokens; t += 8)
                {
                    Kernel512x8(tile, X + ((long)t * cols), cols, outTile);
                    Store(outTile, 8, t, outputRow, n);
                }

                for (; t < Tokens; t++)
                {
                    Kernel512x1(tile, X + ((long)t * cols), cols, outTile);
                    Store(outTile, 1, t, outputRow, n);
                }
            }
            else if (Path == SimdPath.Vector256)
            {
                for (; t + 6 <= Tokens; t += 6)
                {
                    Kernel256x6(tile, X + ((long)t * cols), cols, outTile);
                    Store(outTile, 6, t, outputRow, n);
                }

                for (; t < Tokens; t++)
                {
                    Kernel256x1(tile, X + ((long)t * cols), cols, outTile);
                    Store(outTile, 1, t, outputRow, n);
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
                        float* wc = tile + (c * tileRows);
                        for (int i = 0; i < tileRows; i++)
                        {
                            outTile[i] += xc * wc[i];
                        }
                    }

                    Store(outTile, 1, t, outputRow, n);
                }
            }
        }

        private readonly void BuildTile(WeightMatrix* w, int r0, int n, float* tile, KernelScratch scratch)
        {
            int cols = w->Cols, tileRows = TileRows;
            float* row = (float*)scratch.Get(KernelScratch.Slot.Row, (long)cols * sizeof(float));
            for (int i = 0; i < tileRows; i++)
            {
                if (i < n)
                {
                    Dequantizer.Dequantize(w->Type, w->Row(r0 + i), row, cols, Path);
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
        }

        // Dequantizes 16 rows at a time into a row-major buffer and transposes 16×16 blocks in registers.
        private readonly void BuildTile512(WeightMatrix* w, int r0, int n, float* tile, KernelScratch scratch)
        {
            int cols = w->Cols;
            float* rows16 = (float*)scratch.Get(KernelScratch.Slot.Row, 16L * cols * sizeof(float));
            for (int half = 0; half < 2; half++)
            {
                for (int i = 0; i < 16; i++)
                {
                    int r = (half * 16) + i;
                    if (r < n)
                    {
                        Dequantizer.Dequantize(w->Type, w->Row(r0 + r), rows16 + (i * cols), cols, Path);
                    }
                    else
                    {
                        new Span<float>(rows16 + (i * cols), cols).Clear();
                    }
                }

                int c = 0;
                for (; c + 16 <= cols; c += 16)
                {
                    Transpose16x16(rows16 + c, cols, tile + (c * 32) + (half * 16), 32);
                }

                for (; c < cols; c++)
                {
                    for (int i = 0; i < 16; i++)
                    {
                        tile[(c * 32) + (half * 16) + i] = rows16[(i * cols) + c];
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Store(float* outTile, int tokens, int t0, int outputRow, int n)
        {
            int tileRows = TileRows;
            for (int k = 0; k < tokens; k++)
            {
                float* dst = Y + ((long)(t0 + k) * TotalRows) + outputRow;
                float* src = outTile + (k * tileRows);
                for (int i = 0; i < n; i++)
                {
                    dst[i] = src[i];
                }
            }
        }
    }

    /// <summary>Writes the transpose of the 16×16 block at <paramref name="source"/> (row stride in floats) to <paramref name="destination"/>.</summary>
    internal static void Transpose16x16(float* source, int sourceStride, float* destination, int destinationStride)
    {
        Vector512<float> r0 = Vector512.Load(source), r1 = Vector512.Load(source + sourceStride);
        Vector512<float> r2 = Vector512.Load(source + (2 * sourceStride)), r3 = Vector512.Load(source + (3 * sourceStride));
        Vector512<float> r4 = Vector512.Load(source + (4 * sourceStride)), r5 = Vector512.Load(source + (5 * sourceStride));
        Vector512<float> r6 = Vector512.Load(source + (6 * sourceStride)), r7 = Vector512.Load(source + (7 * sourceStride));
        Vector512<float> r8 = Vector512.Load(source + (8 * sourceStride)), r9 = Vector512.Load(source + (9 * sourceStride));
        Vector512<float> r10 = Vector512.Load(source + (10 * sourceStride)), r11 = Vector512.Load(source + (11 * sourceStride));
        Vector512<float> r12 = Vector512.Load(source + (12 * sourceStride)), r13 = Vector512.Load(source + (13 * sourceStride));
        Vector512<float> r14 = Vector512.Load(source + (14 * sourceStride)), r15 = Vector512.Load(source + (15 * sourceStride));

        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
        Vector512<float> t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
        Vector512<float> t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
        Vector512<float> t8 = Avx512F.UnpackLow(r8, r9), t9 = Avx512F.UnpackHigh(r8, r9);
        Vector512<float> t10 = Avx512F.UnpackLow(r10, r11), t11 = Avx512F.UnpackHigh(r10, r11);
        Vector512<float> t12 = Avx512F.UnpackLow(r12, r13), t13 = Avx512F.UnpackHigh(r12, r13);
        Vector512<float> t14 = Avx512F.UnpackLow(r14, r15), t15 = Avx512F.UnpackHigh(r14, r15);

        r0 = Avx512F.Shuffle(t0, t2, 0x44); r1 = Avx512F.Shuffle(t0, t2, 0xEE);
        r2 = Avx512F.Shuffle(t1, t3, 0x44); r3 = Avx512F.Shuffle(t1, t3, 0xEE);
        r4 = Avx512F.Shuffle(t4, t6, 0x44); r5 = Avx512F.Shuffle(t4, t6, 0xEE);
        r6 = Avx512F.Shuffle(t5, t7, 0x44); r7 = Avx512F.Shuffle(t5, t7, 0xEE);
        r8 = Avx512F.Shuffle(t8, t10, 0x44); r9 = Avx512F.Shuffle(t8, t10, 0xEE);
        r10 = Avx512F.Shuffle(t9, t11, 0x44); r11 = Avx512F.Shuffle(t9, t11, 0xEE);
        r12 = Avx512F.Shuffle(t12, t14, 0x44); r13 = Avx512F.Shuffle(t12, t14, 0xEE);
        r14 = Avx512F.Shuffle(t13, t15, 0x44); r15 = Avx512F.Shuffle(t13, t15, 0xEE);

        t0 = Avx512F.Shuffle4x128(r0, r4, 0x88); t1 = Avx512F.Shuffle4x128(r1, r5, 0x88);
        t2 = Avx512F.Shuffle4x128(r2, r6, 0x88); t3 = Avx512F.Shuffle4x128(r3, r7, 0x88);
        t4 = Avx512F.Shuffle4x128(r0, r4, 0xDD); t5 = Avx512F.Shuffle4x128(r1, r5, 0xDD);
        t6 = Avx512F.Shuffle4x128(r2, r6, 0xDD); t7 = Avx512F.Shuffle4x128(r3, r7, 0xDD);
        t8 = Avx512F.Shuffle4x128(r8, r12, 0x88); t9 = Avx512F.Shuffle4x128(r9, r13, 0x88);
        t10 = Avx512F.Shuffle4x128(r10, r14, 0x88); t11 = Avx512F.Shuffle4x128(r11, r15, 0x88);
        t12 = Avx512F.Shuffle4x128(r8, r12, 0xDD); t13 = Avx512F.Shuffle4x128(r9, r13, 0xDD);
        t14 = Avx512F.Shuffle4x128(r10, r14, 0xDD); t15 = Avx512F.Shuffle4x128(r11, r15, 0xDD);

        Avx512F.Shuffle4x128(t0, t8, 0x88).Store(destination);
        Avx512F.Shuffle4x128(t1, t9, 0x88).Store(destination + destinationStride);
        Avx512F.Shuffle4x128(t2, t10, 0x88).Store(destination + (2 * destinationStride));
        Avx512F.Shuffle4x128(t3, t11, 0x88).Store(destination + (3 * destinationStride));
        Avx512F.Shuffle4x128(t4, t12, 0x88).Store(destination + (4 * destinationStride));
        Avx512F.Shuffle4x128(t5, t13, 0x88).Store(destination + (5 * destinationStride));
        Avx512F.Shuffle4x128(t6, t14, 0x88).Store(destination + (6 * destinationStride));
        Avx512F.Shuffle4x128(t7, t15, 0x88).Store(destination + (7 * destinationStride));
        Avx512F.Shuffle4x128(t0, t8, 0xDD).Store(destination + (8 * destinationStride));
        Avx512F.Shuffle4x128(t1, t9, 0xDD).Store(destination + (9 * destinationStride));
        Avx512F.Shuffle4x128(t2, t10, 0xDD).Store(destination + (10 * destinationStride));
        Avx512F.Shuffle4x128(t3, t11, 0xDD).Store(destination + (11 * destinationStride));
        Avx512F.Shuffle4x128(t4, t12, 0xDD).Store(destination + (12 * destinationStride));
        Avx512F.Shuffle4x128(t5, t13, 0xDD).Store(destination + (13 * destinationStride));
        Avx512F.Shuffle4x128(t6, t14, 0xDD).Store(destination + (14 * destinationStride));
        Avx512F.Shuffle4x128(t7, t15, 0xDD).Store(destination + (15 * destinationStride));
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
