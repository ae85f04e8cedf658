using System.Numerics.Tensors;
using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Core.Cache;

/// <summary>
/// Keys (after RoPE) and values stored as FP16, llama.cpp's default cache type. The query is rounded to FP16 (the F16
/// <c>vec_dot_type</c>) and scores are single-precision dot products; the values are then summed as
/// <see cref="Mode"/> says: as ggml's CPU flash attention (llama.cpp's default, FP16 accumulator) or as its
/// two-pass path (softmax weights rounded to FP16, float accumulator).
/// </summary>
/// <remarks>Memory per layer and KV head is one contiguous block of <c>capacity × headDim</c> halves, allocated up front.</remarks>
internal sealed unsafe class F16KvCache : IKvCache
{
    // Rows converted to float at once when scoring or accumulating: large enough to amortise the conversion call.
    private const int BlockRows = 64;

    // Tokens of a batch that share one conversion of each key/value block (with all query heads of a KV head).
    private const int TileTokens = 16;

    // Attention scratch: per worker of the pool (freed with it) and, for the calling thread, this cache's own.
    [ThreadStatic]
    private static float[]? t_scratch;

    private float[]? _scratch;

    private readonly Half[][] _keys;
    private readonly Half[][] _values;

    // Rows per layer: the capacity, or a sliding-window layer's ring (window + one batch); position p is row p mod rows.
    private readonly int[] _rows;
    private int _length;

    /// <summary>Allocates the cache for <paramref name="layout"/>.</summary>
    public F16KvCache(KvCacheLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Layout = layout;
        _keys = new Half[layout.Layers][];
        _values = new Half[layout.Layers][];
        _rows = new int[layout.Layers];
        for (int l = 0; l < layout.Layers; l++)
        {
            _rows[l] = layout.RowsFor(l);
            _keys[l] = GC.AllocateUninitializedArray<Half>(checked(_rows[l] * layout.KvHeads * layout.KeyLength), pinned: true);
            _values[l] = GC.AllocateUninitializedArray<Half>(checked(_rows[l] * layout.KvHeads * layout.ValueLength), pinned: true);
            long row = (long)layout.KvHeads * (layout.KeyLength + layout.ValueLength) * sizeof(ushort);
            AllocatedBytes += _rows[l] * row;
            BytesPerToken += layout.Attention[l].IsSliding ? 0 : row;
        }
    }

    /// <inheritdoc />
    public KvCacheLayout Layout { get; }

    /// <summary>How attention rounds; <see cref="AttentionMode.Flash"/> (default) matches llama.cpp's CPU default.</summary>
    public AttentionMode Mode { get; init; } = AttentionMode.Flash;

    /// <inheritdoc />
    public int Length => _length;

    /// <summary>Bytes one more token costs: keys and values of the full-attention layers (sliding layers hold a fixed ring).</summary>
    public long BytesPerToken { get; }

    /// <inheritdoc />
    public long AllocatedBytes { get; }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Store(int layer, int position, int count, ReadOnlySpan<float> keysBeforeRope, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        KvCacheLayout l = Layout;
        Layout.CheckBatch(layer, position, count, _length);
        int kRow = l.KvHeads * l.KeyLength, vRow = l.KvHeads * l.ValueLength;
        if (keys.Length < count * kRow)
        {
            throw new ArgumentException($"The keys hold {keys.Length} floats; {count} × {kRow} are needed.", nameof(keys));
        }

        if (values.Length < count * vRow)
        {
            throw new ArgumentException($"The values hold {values.Length} floats; {count} × {vRow} are needed.", nameof(values));
        }

        int rows = _rows[layer];
        if (rows < l.Capacity && count > l.MaxBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Layer {layer} keeps a sliding window plus {l.MaxBatch} tokens; {count} cannot be stored at once.");
        }

        Span<Half> k = _keys[layer], v = _values[layer];
        for (int t = 0; t < count; t++)
        {
            int row = (position + t) % rows;
            for (int h = 0; h < l.KvHeads; h++)
            {
                TensorPrimitives.ConvertToHalf(
                    keys.Slice((t * kRow) + (h * l.KeyLength), l.KeyLength),
                    k.Slice(((h * rows) + row) * l.KeyLength, l.KeyLength));
                TensorPrimitives.ConvertToHalf(
                    values.Slice((t * vRow) + (h * l.ValueLength), l.ValueLength),
                    v.Slice(((h * rows) + row) * l.ValueLength, l.ValueLength));
            }
        }
    }

    /// <inheritdoc />
    public void Attend(int layer, int position, int count, ReadOnlySpan<float> queries, Span<float> output, WorkerPool? pool)
    {
        KvCacheLayout l = Layout;
        Layout.CheckAttend(layer, position, count, _length, queries.Length, output.Length);

        fixed (Half* k = _keys[layer])
        fixed (Half* v = _values[layer])
        fixed (float* q = queries)
        fixed (float* o = output)
        {
            var call = new LayerCall { Cache = this, Layout = l, Attention = l.Attention[layer], Rows = _rows[layer], Keys = (ushort*)k, Values = (ushort*)v, Queries = q, Output = o, Position = position };
            if (Mode == AttentionMode.Flash)
            {
                var tiled = new FlashTileJob { Call = call, Count = count };
                int items = l.KvHeads * ((count + TileTokens - 1) / TileTokens);
                WorkerPool.RunOrInline(pool, ref tiled, items);

                return;
            }

            var job = new AttentionJob { Call = call, Mode = Mode };
            WorkerPool.RunOrInline(pool, ref job, count * l.Heads);
        }
    }

    /// <inheritdoc />
    public void Commit(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, _length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Layout.Capacity);
        _length = length;
    }

    /// <inheritdoc />
    public bool CanTruncate(int length)
    {
        // A sliding layer's ring still holds the window before `length` only if fewer than a batch of rows moved on.
        for (int l = 0; l < _rows.Length; l++)
        {
            if (_rows[l] < Layout.Capacity && _length - length > _rows[l] - Layout.Attention[l].SlidingWindow)
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _length);
        if (!CanTruncate(length))
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The sliding-window rings no longer hold the window before token {length}; reset and evaluate again.");
        }

        _length = length;
    }

    /// <inheritdoc />
    public void Reset() => _length = 0;

    /// <summary>Releases nothing: the cache is managed memory.</summary>
    public void Dispose()
    {
    }

    private float* Scratch(int floats)
    {
        float[] s = Threading.Scratch.GrowPinned(ref WorkerPool.OnWorkerThread ? ref t_scratch : ref _scratch, floats, 4096);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s));
    }

    /// <summary>Σ a[i]·b[i] in single precision.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            }

            sum = Vector512.Sum(acc);
        }

        if (Vector256.IsHardwareAccelerated && i <= n - 8)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            }

            sum += Vector256.Sum(acc);
        }

        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>
    /// One row of ggml's CPU flash attention (online softmax): when score <paramref name="s"/> is a new maximum the
    /// FP16 accumulator and the weight sum are rescaled, then the value row is added with its weight, rounded to FP16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FlashStep(float* acc, float* value, float s, int dv, ref float m, ref float weightSum)
    {
        float vs = 1;
        if (s > m)
        {
            float ms = MathF.Exp(m - s);
            m = s;
            weightSum *= ms;
            if (ms != 1)
            {
                MadRoundHalf(acc, acc, ms, dv, accumulate: false);
            }
        }
        else
        {
            vs = MathF.Exp(s - m);
        }

        MadRoundHalf(acc, value, vs, dv, accumulate: true);
        weightSum += vs;
    }

    /// <summary>
    /// acc[i] = fp16(acc[i] + v[i]·s) (ggml's <c>ggml_vec_mad_f16</c>), or fp16(v[i]·s) without <paramref name="accumulate"/>
    /// (<c>ggml_vec_scale_f16</c>), on an FP16 accumulator held as floats. The rounding
    /// to FP16 is done on the float bits (round to nearest even at mantissa bit 13), exact for the FP16 normal range.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MadRoundHalf(float* acc, float* v, float s, int n, bool accumulate)
    {
        int i = 0;
        float keep = accumulate ? 1f : 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            var scale = Vector512.Create(s);
            var k = Vector512.Create(keep);
            for (; i <= n - 16; i += 16)
            {
                Vector512<float> x = Vector512.FusedMultiplyAdd(Vector512.Load(v + i), scale, Vector512.Load(acc + i) * k);
                RoundHalf(x).Store(acc + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var scale = Vector256.Create(s);
            var k = Vector256.Create(keep);
            for (; i <= n - 8; i += 8)
            {
                Vector256<float> x = Vector256.FusedMultiplyAdd(Vector256.Load(v + i), scale, Vector256.Load(acc + i) * k);
                Vector256<uint> bits = x.AsUInt32();
                bits += Vector256.Create(0xFFFu) + ((bits >> 13) & Vector256<uint>.One);
                (bits & Vector256.Create(~0x1FFFu)).AsSingle().Store(acc + i);
            }
        }

        for (; i < n; i++)
        {
            acc[i] = (float)(Half)MathF.FusedMultiplyAdd(v[i], s, acc[i] * keep);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RoundHalf(Vector512<float> x)
    {
        Vector512<uint> bits = x.AsUInt32();
        bits += Vector512.Create(0xFFFu) + ((bits >> 13) & Vector512<uint>.One);
        return (bits & Vector512.Create(~0x1FFFu)).AsSingle();
    }

    // What both attention jobs read: the cache, one layer's ring of FP16 rows and the call's queries and output.
    private struct LayerCall
    {
        public F16KvCache Cache;
        public KvCacheLayout Layout;
        public LayerAttention Attention;
        public int Rows;
        public ushort* Keys;
        public ushort* Values;
        public float* Queries;
        public float* Output;
        public int Position;
    }

    /// <summary>
    /// Flash-style attention for a tile of up to <see cref="TileTokens"/> tokens × the query heads of one KV head:
    /// each block of keys and values is converted to float once for the whole tile. Every query still visits its
    /// rows in order with the same arithmetic as ggml's flash path, so the result does not depend on the tiling.
    /// </summary>
    private struct FlashTileJob : IParallelJob
    {
        public LayerCall Call;
        public int Count;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            KvCacheLayout l = Call.Layout;
            int tiles = (Count + TileTokens - 1) / TileTokens;
            int kvh = index / tiles;
            int t0 = (index % tiles) * TileTokens;
            int t1 = Math.Min(Count, t0 + TileTokens);
            int group = l.GroupSize, dk = l.KeyLength, dv = l.ValueLength;
            int nq = (t1 - t0) * group;

            // scratch: queries (nq·dk) | accumulators (nq·dv) | max (nq) | sum (nq) | key block | value block
            float* q = Call.Cache.Scratch((nq * (dk + dv + 2)) + (BlockRows * (dk + dv)) + 16);
            float* acc = q + (nq * dk);
            float* maxima = acc + (nq * dv);
            float* sums = maxima + nq;
            float* kBlock = sums + nq;
            float* vBlock = kBlock + (BlockRows * dk);
            for (int i = 0; i < nq; i++)
            {
                int t = t0 + (i / group), h = (kvh * group) + (i % group);
                new Span<float>(q + (i * dk), dk).Clear();
                MadRoundHalf(q + (i * dk), Call.Queries + ((long)t * l.Heads * dk) + (h * dk), 1f, dk, accumulate: false);
                new Span<float>(acc + (i * dv), dv).Clear();
                maxima[i] = float.NegativeInfinity;
                sums[i] = 0;
            }

            LayerAttention a = Call.Attention;
            float preScale = a.PreScale, cap = a.SoftCap;
            int ring = Call.Rows;
            ushort* keys = Call.Keys + ((long)kvh * ring * dk);
            ushort* values = Call.Values + ((long)kvh * ring * dv);
            int end = Call.Position + t1;
            int start = a.FirstVisible(Call.Position + t0);
            for (int j0 = start; j0 < end;)
            {
                // A block never crosses the end of a sliding layer's ring.
                int slot = j0 % ring;
                int rows = Math.Min(Math.Min(BlockRows, end - j0), ring - slot);
                FloatConversion.HalfToSingle(keys + ((long)slot * dk), kBlock, rows * dk, SimdPath.Auto);
                FloatConversion.HalfToSingle(values + ((long)slot * dv), vBlock, rows * dv, SimdPath.Auto);
                for (int i = 0; i < nq; i++)
                {
                    int queryPosition = Call.Position + t0 + (i / group);
                    int visible = Math.Min(rows, queryPosition + 1 - j0);
                    int firstRow = Math.Max(0, a.FirstVisible(queryPosition) - j0);
                    float* qi = q + (i * dk);
                    float* ai = acc + (i * dv);
                    float m = maxima[i], weightSum = sums[i];
                    for (int r = firstRow; r < visible; r++)
                    {
                        float s = Dot(qi, kBlock + (r * dk), dk) * preScale;
                        if (cap != 0)
                        {
                            s = cap * MathF.Tanh(s);
                        }

                        FlashStep(ai, vBlock + (r * dv), s, dv, ref m, ref weightSum);
                    }

                    maxima[i] = m;
                    sums[i] = weightSum;
                }

                j0 += rows;
            }

            for (int i = 0; i < nq; i++)
            {
                int t = t0 + (i / group), h = (kvh * group) + (i % group);
                float* o = Call.Output + ((long)t * l.Heads * dv) + (h * dv);
                float inverse = 1.0f / sums[i];
                for (int d = 0; d < dv; d++)
                {
                    o[d] = acc[(i * dv) + d] * inverse;
                }
            }
        }
    }

    private struct AttentionJob : IParallelJob
    {
        public AttentionMode Mode;
        public LayerCall Call;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int index)
        {
            KvCacheLayout l = Call.Layout;
            int t = index / l.Heads, h = index % l.Heads;
            int kvh = h / l.GroupSize;
            int dk = l.KeyLength, dv = l.ValueLength;
            LayerAttention a = Call.Attention;
            int ring = Call.Rows;
            int end = Call.Position + t + 1;
            int first = a.FirstVisible(Call.Position + t);
            int n = end - first;

            // scratch: query (dk) | scores (n) | block of converted rows (BlockRows × max(dk, dv))
            int maxD = Math.Max(dk, dv);
            float* q = Call.Cache.Scratch(dk + n + (BlockRows * maxD) + (2 * dv) + 16);
            float* scores = q + dk;
            float* block = scores + n;

            float* query = Call.Queries + ((long)t * l.Heads * dk) + (h * dk);
            new Span<float>(q, dk).Clear();
            MadRoundHalf(q, query, 1f, dk, accumulate: false);

            // Visible positions first..end-1, in blocks that never cross the end of a sliding layer's ring.
            ushort* keys = Call.Keys + ((long)kvh * ring * dk);
            float max = float.NegativeInfinity;
            for (int j0 = first; j0 < end;)
            {
                int slot = j0 % ring;
                int rows = Math.Min(Math.Min(BlockRows, end - j0), ring - slot);
                FloatConversion.HalfToSingle(keys + ((long)slot * dk), block, rows * dk, SimdPath.Auto);
                for (int r = 0; r < rows; r++)
                {
                    float s = a.Score(Dot(q, block + (r * dk), dk));
                    scores[j0 - first + r] = s;
                    max = MathF.Max(max, s);
                }

                j0 += rows;
            }

            var output = new Span<float>(Call.Output + ((long)t * l.Heads * dv) + (h * dv), dv);
            ushort* values = Call.Values + ((long)kvh * ring * dv);
            if (Mode == AttentionMode.Flash)
            {
                // ggml's CPU flash attention: online softmax with the value sum kept in FP16 (rounded after every
                // multiply-add) and divided by the float sum of weights at the end.
                float* acc = block + (BlockRows * maxD);
                new Span<float>(acc, dv).Clear();
                float m = float.NegativeInfinity, weightSum = 0;
                for (int j0 = first; j0 < end;)
                {
                    int slot = j0 % ring;
                    int rows = Math.Min(Math.Min(BlockRows, end - j0), ring - slot);
                    FloatConversion.HalfToSingle(values + ((long)slot * dv), block, rows * dv, SimdPath.Auto);
                    for (int r = 0; r < rows; r++)
                    {
                        FlashStep(acc, block + (r * dv), scores[j0 - first + r], dv, ref m, ref weightSum);
                    }

                    j0 += rows;
                }

                float inverse = 1.0f / weightSum;
                for (int d = 0; d < dv; d++)
                {
                    output[d] = acc[d] * inverse;
                }

                return;
            }

            double sum = 0;
            for (int j = 0; j < n; j++)
            {
                float e = MathF.Exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }

            float inv = (float)(1.0 / sum);
            output.Clear();
            for (int j0 = first; j0 < end;)
            {
                int slot = j0 % ring;
                int rows = Math.Min(Math.Min(BlockRows, end - j0), ring - slot);
                FloatConversion.HalfToSingle(values + ((long)slot * dv), block, rows * dv, SimdPath.Auto);
                for (int r = 0; r < rows; r++)
                {
                    float w = (float)(Half)(scores[j0 - first + r] * inv);
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(block + (r * dv), dv), w, output, output);
                }

                j0 += rows;
            }
        }
    }
}
