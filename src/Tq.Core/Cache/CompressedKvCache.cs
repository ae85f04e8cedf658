using System.Buffers;
using System.Diagnostics;
using System.Numerics.Tensors;
using Tq.Core.Models;
using Tq.Core.Threading;

namespace Tq.Core.Cache;

/// <summary>
/// A KV cache whose rows are encoded by a <see cref="KvRowCodec"/> (TurboQuant codes or Q8_0 blocks) and attended to
/// without decoding the cache. Per layer and KV head it holds: FP16 sink rows (the first tokens) | encoded rows
/// (every later position, written once when the token is stored) | an FP16 ring of the most recent tokens.
/// </summary>
/// <remarks>
/// <para>
/// A query at position p reads sinks and the recent rows (p − window, p] in FP16 and everything between from the
/// codes. Every token is encoded exactly once, in <see cref="Store"/>: O(1) work per token, nothing re-encoded when it
/// leaves the window (its codes already exist). During a batch the batch's own FP16 rows are staged in pooled buffers,
/// so a prefill sees exactly what token-by-token decoding would; <see cref="Commit"/> moves the last of them into the
/// ring and returns the buffers. After <see cref="Truncate"/> the window rows the ring no longer holds are read from
/// their codes, which stay valid (prefix reuse).
/// </para>
/// <para>All storage is allocated up front; <see cref="AllocatedBytes"/> is the exact sum of the arrays.</para>
/// </remarks>
internal sealed unsafe class CompressedKvCache : IKvCache
{
    // Rows gathered at once by sparse-V before a codec accumulation.
    private const int GatherRows = 64;

    // Attention scratch: per worker of the pool (freed with it) and, for the calling thread, this cache's own.
    [ThreadStatic]
    private static float[]? t_floats;

    [ThreadStatic]
    private static byte[]? t_bytes;

    [ThreadStatic]
    private static float[]? t_group;

    [ThreadStatic]
    private static Half[]? t_halves;

    private float[]? _floats;
    private byte[]? _bytes;
    private float[]? _group;
    private Half[]? _halves;

    private readonly KvRowCodec[] _keyCodecs;
    private readonly KvRowCodec[] _valueCodecs;
    private readonly byte[][] _keyCodes;
    private readonly byte[][] _valueCodes;
    private readonly Half[][] _keyNorms;
    private readonly Half[][] _keyResiduals;
    private readonly Half[][] _valueNorms;
    private readonly Half[][] _sinkKeys;
    private readonly Half[][] _sinkValues;
    private readonly Half[][] _ringKeys;
    private readonly Half[][] _ringValues;
    private readonly int[] _ringStart;
    private readonly Half[]?[] _stageKeys;
    private readonly Half[]?[] _stageValues;
    private readonly int[] _stagePosition;
    private readonly int[] _stageCount;
    private readonly float[]? _ropeTable;
    private readonly int _rows;
    private int _length;

    /// <summary>Creates the cache for <paramref name="layout"/>.</summary>
    /// <param name="layout">The shape.</param>
    /// <param name="keyCodecs">Key codec per layer.</param>
    /// <param name="valueCodecs">Value codec per layer.</param>
    /// <param name="sinks">FP16 sink tokens.</param>
    /// <param name="window">FP16 recent tokens (0: even the current token is read from its codes, as llama.cpp's Q8_0 cache).</param>
    /// <param name="preRopeKeys">Encode keys before RoPE.</param>
    /// <param name="sparseValueThreshold">Skip value rows whose weight is below this.</param>
    public CompressedKvCache(KvCacheLayout layout, KvRowCodec[] keyCodecs, KvRowCodec[] valueCodecs, int sinks, int window, bool preRopeKeys, float sparseValueThreshold)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(keyCodecs);
        ArgumentNullException.ThrowIfNull(valueCodecs);
        ArgumentOutOfRangeException.ThrowIfNegative(sinks);
        ArgumentOutOfRangeException.ThrowIfNegative(window);
        if (keyCodecs.Length != layout.Layers || valueCodecs.Length != layout.Layers)
        {
            throw new ArgumentException($"One key and one value codec per layer ({layout.Layers}) are needed.", nameof(keyCodecs));
        }

        Layout = layout;
        Sinks = Math.Min(sinks, layout.Capacity);
        Window = Math.Min(window, layout.Capacity);
        PreRopeKeys = preRopeKeys;
        SparseValueThreshold = sparseValueThreshold;
        _rows = layout.Capacity - Sinks;
        _keyCodecs = keyCodecs;
        _valueCodecs = valueCodecs;
        int layers = layout.Layers, kvh = layout.KvHeads, dk = layout.KeyLength, dv = layout.ValueLength;
        _keyCodes = new byte[layers][];
        _valueCodes = new byte[layers][];
        _keyNorms = new Half[layers][];
        _keyResiduals = new Half[layers][];
        _valueNorms = new Half[layers][];
        _sinkKeys = new Half[layers][];
        _sinkValues = new Half[layers][];
        _ringKeys = new Half[layers][];
        _ringValues = new Half[layers][];
        _ringStart = new int[layers];
        _stageKeys = new Half[layers][];
        _stageValues = new Half[layers][];
        _stagePosition = new int[layers];
        _stageCount = new int[layers];
        for (int l = 0; l < layers; l++)
        {
            KvRowCodec kc = keyCodecs[l], vc = valueCodecs[l];
            if (kc.Dimension != dk || vc.Dimension != dv)
            {
                throw new ArgumentException($"Layer {l}: codecs of {kc.Dimension}/{vc.Dimension} values do not fit heads of {dk}/{dv}.", nameof(keyCodecs));
            }

            long rows = (long)kvh * _rows;
            _keyCodes[l] = new byte[checked(rows * kc.CodeBytes)];
            _valueCodes[l] = new byte[checked(rows * vc.CodeBytes)];
            _keyNorms[l] = kc.NormsPerRow >= 1 ? new Half[rows] : [];
            _keyResiduals[l] = kc.NormsPerRow >= 2 ? new Half[rows] : [];
            _valueNorms[l] = vc.NormsPerRow >= 1 ? new Half[rows] : [];
            _sinkKeys[l] = new Half[kvh * Sinks * dk];
            _sinkValues[l] = new Half[kvh * Sinks * dv];
            _ringKeys[l] = new Half[kvh * Window * dk];
            _ringValues[l] = new Half[kvh * Window * dv];
        }

        if (preRopeKeys)
        {
            if (layout.Ropes.Count > 1)
            {
                throw new NotSupportedException("Keys compressed before RoPE need one RoPE for every layer; this model rotates its layers differently.");
            }

            RotaryEmbedding rope = layout.Rope;
            _ropeTable = new float[checked(layout.Capacity * rope.TableLength)];
            for (int p = 0; p < layout.Capacity; p++)
            {
                rope.ComputeTable(p, _ropeTable.AsSpan(p * rope.TableLength, rope.TableLength));
            }
        }
    }

    /// <inheritdoc />
    public KvCacheLayout Layout { get; }

    /// <summary>FP16 sink tokens.</summary>
    public int Sinks { get; }

    /// <summary>FP16 recent tokens (the current one included).</summary>
    public int Window { get; }

    /// <summary>Whether keys are encoded before RoPE.</summary>
    public bool PreRopeKeys { get; }

    /// <summary>Value rows with a smaller attention weight are skipped.</summary>
    public float SparseValueThreshold { get; }

    /// <summary>Key codec per layer.</summary>
    public IReadOnlyList<KvRowCodec> KeyCodecs => _keyCodecs;

    /// <summary>Value codec per layer.</summary>
    public IReadOnlyList<KvRowCodec> ValueCodecs => _valueCodecs;

    /// <inheritdoc />
    public int Length => _length;

    /// <summary>Encoded bytes of one token (all layers, keys and values, norms included): the cost of every token past the sinks.</summary>
    public long BytesPerToken
    {
        get
        {
            long sum = 0;
            for (int l = 0; l < Layout.Layers; l++)
            {
                sum += (long)Layout.KvHeads * (_keyCodecs[l].RowBytes + _valueCodecs[l].RowBytes);
            }

            return sum;
        }
    }

    /// <summary>Bytes of layer <paramref name="layer"/> per token (its KV heads' key and value rows).</summary>
    public long LayerBytesPerToken(int layer) => (long)Layout.KvHeads * (_keyCodecs[layer].RowBytes + _valueCodecs[layer].RowBytes);

    /// <summary>Bytes that do not grow with the context: FP16 sink rows, the FP16 ring, the RoPE table of pre-RoPE keys.</summary>
    public long FixedBytes =>
        ((long)Layout.Layers * Layout.KvHeads * (Sinks + Window) * (Layout.KeyLength + Layout.ValueLength) * sizeof(ushort))
        + ((_ropeTable?.LongLength ?? 0) * sizeof(float));

    /// <inheritdoc />
    public long AllocatedBytes
    {
        get
        {
            long sum = (_ropeTable?.LongLength ?? 0) * sizeof(float);
            for (int l = 0; l < Layout.Layers; l++)
            {
                sum += _keyCodes[l].LongLength + _valueCodes[l].LongLength;
                sum += (_keyNorms[l].LongLength + _keyResiduals[l].LongLength + _valueNorms[l].LongLength) * sizeof(ushort);
                sum += (_sinkKeys[l].LongLength + _sinkValues[l].LongLength + _ringKeys[l].LongLength + _ringValues[l].LongLength) * sizeof(ushort);
            }

            return sum;
        }
    }

    /// <summary>Rows encoded since the cache was created (each stored token once per layer and KV head).</summary>
    public long EncodedRows { get; private set; }

    /// <summary>Time spent encoding rows (Stopwatch ticks), to measure the prefill cost of compression.</summary>
    public long EncodeTicks { get; private set; }

    /// <inheritdoc />
    public void Store(int layer, int position, int count, ReadOnlySpan<float> keysBeforeRope, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        KvCacheLayout l = Layout;
        Layout.CheckBatch(layer, position, count, _length);
        int kvh = l.KvHeads, dk = l.KeyLength, dv = l.ValueLength, kRow = kvh * dk, vRow = kvh * dv;
        if (keys.Length < count * kRow)
        {
            throw new ArgumentException($"The keys hold {keys.Length} floats; {count} × {kRow} are needed.", nameof(keys));
        }

        if (PreRopeKeys && keysBeforeRope.Length < count * kRow)
        {
            throw new ArgumentException($"The keys before RoPE hold {keysBeforeRope.Length} floats; {count} × {kRow} are needed.", nameof(keysBeforeRope));
        }

        if (values.Length < count * vRow)
        {
            throw new ArgumentException($"The values hold {values.Length} floats; {count} × {vRow} are needed.", nameof(values));
        }

        ReleaseStage(layer);
        Half[] stageK = ArrayPool<Half>.Shared.Rent(count * kRow);
        Half[] stageV = ArrayPool<Half>.Shared.Rent(count * vRow);
        _stageKeys[layer] = stageK;
        _stageValues[layer] = stageV;
        _stagePosition[layer] = position;
        _stageCount[layer] = count;
        TensorPrimitives.ConvertToHalf(keys[..(count * kRow)], stageK.AsSpan(0, count * kRow));
        TensorPrimitives.ConvertToHalf(values[..(count * vRow)], stageV.AsSpan(0, count * vRow));

        KvRowCodec kc = _keyCodecs[layer], vc = _valueCodecs[layer];
        ReadOnlySpan<float> keySource = PreRopeKeys ? keysBeforeRope : keys;
        long started = Stopwatch.GetTimestamp();
        for (int t = 0; t < count; t++)
        {
            int p = position + t;
            for (int h = 0; h < kvh; h++)
            {
                if (p < Sinks)
                {
                    stageK.AsSpan((t * kRow) + (h * dk), dk).CopyTo(_sinkKeys[layer].AsSpan(((h * Sinks) + p) * dk, dk));
                    stageV.AsSpan((t * vRow) + (h * dv), dv).CopyTo(_sinkValues[layer].AsSpan(((h * Sinks) + p) * dv, dv));
                    continue;
                }

                int row = (h * _rows) + p - Sinks;
                kc.Encode(keySource.Slice((t * kRow) + (h * dk), dk), _keyCodes[layer].AsSpan(row * kc.CodeBytes, kc.CodeBytes),
                    Norms(_keyNorms[layer], row, 1), Norms(_keyResiduals[layer], row, 1));
                vc.Encode(values.Slice((t * vRow) + (h * dv), dv), _valueCodes[layer].AsSpan(row * vc.CodeBytes, vc.CodeBytes),
                    Norms(_valueNorms[layer], row, 1), default);
                EncodedRows++;
            }
        }

        EncodeTicks += Stopwatch.GetTimestamp() - started;
    }

    /// <inheritdoc />
    public void Attend(int layer, int position, int count, ReadOnlySpan<float> queries, Span<float> output, WorkerPool? pool)
    {
        KvCacheLayout l = Layout;
        Layout.CheckAttend(layer, position, count, _length, queries.Length, output.Length);

        bool staged = _stageKeys[layer] is not null;
        int stageEnd = staged ? _stagePosition[layer] + _stageCount[layer] : _length;
        if (position + count > Math.Max(stageEnd, _length))
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Queries up to position {position + count - 1} need keys that were not stored.");
        }

        fixed (float* q = queries)
        fixed (float* o = output)
        {
            var job = new AttentionJob { Cache = this, Layer = layer, Position = position, Queries = q, Output = o };
            WorkerPool.RunOrInline(pool, ref job, count * l.KvHeads);
        }
    }

    /// <inheritdoc />
    public void Commit(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, _length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Layout.Capacity);
        KvCacheLayout l = Layout;
        int kvh = l.KvHeads, dk = l.KeyLength, dv = l.ValueLength;
        for (int layer = 0; layer < l.Layers; layer++)
        {
            Half[]? sk = _stageKeys[layer], sv = _stageValues[layer];
            if (sk is null || sv is null || Window == 0)
            {
                ReleaseStage(layer);
                continue;
            }

            int sp = _stagePosition[layer], end = Math.Min(sp + _stageCount[layer], length);
            for (int p = Math.Max(Math.Max(sp, Sinks), end - Window); p < end; p++)
            {
                int t = p - sp, slot = p % Window;
                for (int h = 0; h < kvh; h++)
                {
                    sk.AsSpan(((t * kvh) + h) * dk, dk).CopyTo(_ringKeys[layer].AsSpan(((h * Window) + slot) * dk, dk));
                    sv.AsSpan(((t * kvh) + h) * dv, dv).CopyTo(_ringValues[layer].AsSpan(((h * Window) + slot) * dv, dv));
                }
            }

            // The ring now holds [start, end): the old rows before the batch (if contiguous) and the batch's last rows.
            int start = Math.Min(_ringStart[layer], sp);
            _ringStart[layer] = Math.Max(Math.Max(start, end - Window), Sinks);
            ReleaseStage(layer);
        }

        _length = length;
    }

    /// <inheritdoc />
    public bool CanTruncate(int length) => length >= 0 && length <= _length;

    /// <inheritdoc />
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _length);
        for (int layer = 0; layer < Layout.Layers; layer++)
        {
            ReleaseStage(layer);
            _ringStart[layer] = Math.Min(_ringStart[layer], length);
        }

        _length = length;
    }

    /// <summary>Forgets every token (a hard reset: nothing of the previous sequence is read again, its rows are overwritten).</summary>
    public void Reset()
    {
        for (int layer = 0; layer < Layout.Layers; layer++)
        {
            ReleaseStage(layer);
            _ringStart[layer] = 0;
        }

        _length = 0;
    }

    /// <summary>Returns the staging buffers.</summary>
    public void Dispose()
    {
        for (int layer = 0; layer < Layout.Layers; layer++)
        {
            ReleaseStage(layer);
        }
    }

    private static Span<Half> Norms(Half[] norms, int row, int count) => norms.Length == 0 ? default : norms.AsSpan(row, count);

    private void ReleaseStage(int layer)
    {
        if (_stageKeys[layer] is { } k)
        {
            ArrayPool<Half>.Shared.Return(k);
            _stageKeys[layer] = null;
        }

        if (_stageValues[layer] is { } v)
        {
            ArrayPool<Half>.Shared.Return(v);
            _stageValues[layer] = null;
        }
    }

    private float[] Floats(int length) =>
        Scratch.Grow(ref WorkerPool.OnWorkerThread ? ref t_floats : ref _floats, length, 8192);

    private byte[] Bytes(int length) =>
        Scratch.Grow(ref WorkerPool.OnWorkerThread ? ref t_bytes : ref _bytes, length, 4096);

    private Half[] Halves(int length) =>
        Scratch.Grow(ref WorkerPool.OnWorkerThread ? ref t_halves : ref _halves, length, 256);

    // Rotates x by −angle(position): the transpose of RoPE at that position, so ⟨RoPE_p(k), q⟩ = ⟨k, RoPE_p⁻¹(q)⟩.
    private void InverseRope(ReadOnlySpan<float> x, int position, Span<float> y)
    {
        RotaryEmbedding rope = Layout.Rope;
        ReadOnlySpan<float> table = _ropeTable.AsSpan(position * rope.TableLength, rope.TableLength);
        x.CopyTo(y);
        int n = rope.RopeDims, half = n / 2;
        if (rope.Style == RopeStyle.Normal)
        {
            for (int i = 0; i < n; i += 2)
            {
                float c = table[i], s = table[i + 1], x0 = x[i], x1 = x[i + 1];
                y[i] = (x0 * c) + (x1 * s);
                y[i + 1] = (x1 * c) - (x0 * s);
            }
        }
        else
        {
            for (int i = 0; i < half; i++)
            {
                float c = table[2 * i], s = table[(2 * i) + 1], x0 = x[i], x1 = x[i + half];
                y[i] = (x0 * c) + (x1 * s);
                y[i + half] = (x1 * c) - (x0 * s);
            }
        }
    }

    // The rows a query at position p reads from codes: [Sinks, recentStart); FP16 rows exist besides the sinks in the
    // staged batch and the ring before it.
    private (int RecentStart, int Compressed, int StagePos) Ranges(int layer, int p)
    {
        int n = p + 1;
        bool staged = _stageKeys[layer] is not null;
        int stagePos = staged ? _stagePosition[layer] : _length;
        int available = staged && _ringStart[layer] > stagePos ? stagePos : _ringStart[layer];
        int recentStart = Math.Min(Math.Max(Sinks, Math.Max(p - Window + 1, available)), n);
        return (recentStart, Math.Max(0, recentStart - Sinks), stagePos);
    }

    // One token's query heads of one KV head: the compressed keys are scored for the whole group at once (each packed
    // row unpacked once), then each head finishes on its own.
    private void AttendGroup(int layer, int position, int t, int kvh, float* queries, float* outputs)
    {
        KvCacheLayout l = Layout;
        int g = l.GroupSize, first = kvh * g;
        KvRowCodec kc = _keyCodecs[layer];
        (_, int compressed, _) = Ranges(layer, position + t);
        if (g == 1 || compressed == 0 || PreRopeKeys)
        {
            for (int h = first; h < first + g; h++)
            {
                AttendOne(layer, position, t, h, queries, outputs, default);
            }

            return;
        }

        int pl = kc.PreparedLength, dk = l.KeyLength;
        float[] buffer = Scratch.Grow(ref WorkerPool.OnWorkerThread ? ref t_group : ref _group, (g * pl) + (g * compressed), 8192);

        Span<float> prepared = buffer.AsSpan(0, g * pl);
        Span<float> scores = buffer.AsSpan(g * pl, g * compressed);
        for (int i = 0; i < g; i++)
        {
            kc.PrepareQuery(new ReadOnlySpan<float>(queries + ((long)t * l.Heads * dk) + ((first + i) * dk), dk), prepared.Slice(i * pl, pl));
        }

        int row0 = kvh * _rows;
        kc.ScoreGroup(prepared, _keyCodes[layer].AsSpan(row0 * kc.CodeBytes, compressed * kc.CodeBytes),
            Norms(_keyNorms[layer], row0, compressed), Norms(_keyResiduals[layer], row0, compressed), scores);
        for (int i = 0; i < g; i++)
        {
            AttendOne(layer, position, t, first + i, queries, outputs, scores.Slice(i * compressed, compressed));
        }
    }

    private void AttendOne(int layer, int position, int t, int h, float* queries, float* outputs, ReadOnlySpan<float> compressedScores)
    {
        KvCacheLayout l = Layout;
        int p = position + t, n = p + 1, kvh = h / l.GroupSize;
        int dk = l.KeyLength, dv = l.ValueLength;
        KvRowCodec kc = _keyCodecs[layer], vc = _valueCodecs[layer];
        (int recentStart, int compressed, int stagePos) = Ranges(layer, p);
        int sinks = Math.Min(Sinks, n);

        // scratch: query | prepared query | scores | accumulator | row | partial output | gathered weights
        int prepLength = Math.Max(kc.PreparedLength, vc.PreparedLength);
        float[] scratch = Floats(dk + prepLength + n + prepLength + (2 * Math.Max(dk, dv)) + dv + GatherRows + 64);
        Span<float> q = scratch.AsSpan(0, dk);
        Span<float> prepared = scratch.AsSpan(dk, prepLength);
        Span<float> scores = scratch.AsSpan(dk + prepLength, n);
        Span<float> acc = scratch.AsSpan(dk + prepLength + n, prepLength);
        Span<float> row = scratch.AsSpan(dk + (2 * prepLength) + n, Math.Max(dk, dv));
        Span<float> rope = scratch.AsSpan(dk + (2 * prepLength) + n + Math.Max(dk, dv), Math.Max(dk, dv));
        Span<float> partial = scratch.AsSpan(dk + (2 * prepLength) + n + (2 * Math.Max(dk, dv)), dv);
        Span<float> gathered = scratch.AsSpan(dk + (2 * prepLength) + n + (2 * Math.Max(dk, dv)) + dv, GatherRows);
        new ReadOnlySpan<float>(queries + ((long)t * l.Heads * dk) + (h * dk), dk).CopyTo(q);

        // Scores: sinks, then codes, then the recent FP16 rows.
        for (int j = 0; j < sinks; j++)
        {
            TensorPrimitives.ConvertToSingle(_sinkKeys[layer].AsSpan(((kvh * Sinks) + j) * dk, dk), row[..dk]);
            scores[j] = TensorPrimitives.Dot(q, row[..dk]);
        }

        if (compressed > 0)
        {
            int first = kvh * _rows;
            ReadOnlySpan<byte> codes = _keyCodes[layer].AsSpan(first * kc.CodeBytes, compressed * kc.CodeBytes);
            ReadOnlySpan<Half> norms = Norms(_keyNorms[layer], first, compressed);
            ReadOnlySpan<Half> residuals = Norms(_keyResiduals[layer], first, compressed);
            if (compressedScores.Length == compressed)
            {
                compressedScores.CopyTo(scores.Slice(Sinks, compressed));
            }
            else if (!PreRopeKeys)
            {
                kc.PrepareQuery(q, prepared[..kc.PreparedLength]);
                kc.Score(prepared[..kc.PreparedLength], codes, norms, residuals, scores.Slice(Sinks, compressed));
            }
            else
            {
                // score_j = ⟨RoPE_pj(k_pre,j), q⟩ = ⟨k_pre,j, RoPE_pj⁻¹(q)⟩: one query rotation per key position.
                for (int r = 0; r < compressed; r++)
                {
                    InverseRope(q, Sinks + r, rope[..dk]);
                    kc.PrepareQuery(rope[..dk], prepared[..kc.PreparedLength]);
                    kc.Score(prepared[..kc.PreparedLength], codes.Slice(r * kc.CodeBytes, kc.CodeBytes),
                        norms.IsEmpty ? default : norms.Slice(r, 1), residuals.IsEmpty ? default : residuals.Slice(r, 1), scores.Slice(Sinks + r, 1));
                }
            }
        }

        for (int j = recentStart; j < n; j++)
        {
            TensorPrimitives.ConvertToSingle(RecentKey(layer, kvh, j, stagePos), row[..dk]);
            scores[j] = TensorPrimitives.Dot(q, row[..dk]);
        }

        LayerAttention attention = l.Attention[layer];
        int visibleFrom = attention.FirstVisible(p);
        if (attention.SoftCap == 0 && visibleFrom == 0)
        {
            TensorPrimitives.Multiply(scores, attention.Scale, scores);
        }
        else
        {
            // A sliding-window layer still stores every row here (its memory is not bounded); rows before the window are masked.
            scores[..visibleFrom].Fill(float.NegativeInfinity);
            for (int j = visibleFrom; j < n; j++)
            {
                scores[j] = attention.Score(scores[j]);
            }
        }

        float max = TensorPrimitives.Max(scores);
        TensorPrimitives.Subtract(scores, max, scores);
        TensorPrimitives.Exp(scores, scores);
        float sum = TensorPrimitives.Sum(scores);
        TensorPrimitives.Multiply(scores, 1f / sum, scores);

        float threshold = SparseValueThreshold;
        Span<float> output = new(outputs + ((long)t * l.Heads * dv) + (h * dv), dv);
        output.Clear();
        float kept = 0;
        for (int j = 0; j < sinks; j++)
        {
            if (scores[j] >= threshold)
            {
                kept += scores[j];
                TensorPrimitives.ConvertToSingle(_sinkValues[layer].AsSpan(((kvh * Sinks) + j) * dv, dv), row[..dv]);
                TensorPrimitives.MultiplyAdd(row[..dv], scores[j], output, output);
            }
        }

        for (int j = recentStart; j < n; j++)
        {
            if (scores[j] >= threshold)
            {
                kept += scores[j];
                TensorPrimitives.ConvertToSingle(RecentValue(layer, kvh, j, stagePos), row[..dv]);
                TensorPrimitives.MultiplyAdd(row[..dv], scores[j], output, output);
            }
        }

        if (compressed > 0)
        {
            int first = kvh * _rows;
            Span<float> a = acc[..vc.PreparedLength];
            a.Clear();
            ReadOnlySpan<byte> codes = _valueCodes[layer].AsSpan(first * vc.CodeBytes, compressed * vc.CodeBytes);
            ReadOnlySpan<Half> norms = Norms(_valueNorms[layer], first, compressed);
            ReadOnlySpan<float> weights = scores.Slice(Sinks, compressed);
            if (threshold <= 0)
            {
                vc.Accumulate(weights, codes, norms, a);
            }
            else
            {
                kept += AccumulateSparse(vc, weights, codes, norms, gathered, a, threshold);
            }

            vc.Finish(a, partial);
            TensorPrimitives.Add(output, partial, output);
        }

        // Sparse V renormalizes over the rows it kept (softmax over the kept subset), so skipped mass does not shrink the output.
        if (threshold > 0 && kept > 0)
        {
            TensorPrimitives.Multiply(output, 1f / kept, output);
        }
    }

    // Sparse V: only rows with weight ≥ threshold, gathered in small groups so the codec kernel still runs on batches.
    private float AccumulateSparse(KvRowCodec vc, ReadOnlySpan<float> weights, ReadOnlySpan<byte> codes, ReadOnlySpan<Half> norms, Span<float> gathered, Span<float> acc, float threshold)
    {
        float kept = 0;
        int cb = vc.CodeBytes;
        Span<byte> gCodes = Bytes(GatherRows * cb).AsSpan(0, GatherRows * cb);
        Span<Half> gNorms = Halves(GatherRows).AsSpan(0, GatherRows);
        int g = 0;
        for (int r = 0; r < weights.Length; r++)
        {
            if (weights[r] < threshold)
            {
                continue;
            }

            gathered[g] = weights[r];
            kept += weights[r];
            codes.Slice(r * cb, cb).CopyTo(gCodes.Slice(g * cb, cb));
            if (!norms.IsEmpty)
            {
                gNorms[g] = norms[r];
            }

            if (++g == GatherRows)
            {
                vc.Accumulate(gathered[..g], gCodes[..(g * cb)], norms.IsEmpty ? default : gNorms[..g], acc);
                g = 0;
            }
        }

        if (g > 0)
        {
            vc.Accumulate(gathered[..g], gCodes[..(g * cb)], norms.IsEmpty ? default : gNorms[..g], acc);
        }

        return kept;
    }

    private ReadOnlySpan<Half> RecentKey(int layer, int kvh, int j, int stagePos)
    {
        KvCacheLayout l = Layout;
        return j >= stagePos
            ? _stageKeys[layer].AsSpan((((j - stagePos) * l.KvHeads) + kvh) * l.KeyLength, l.KeyLength)
            : _ringKeys[layer].AsSpan(((kvh * Window) + (j % Window)) * l.KeyLength, l.KeyLength);
    }

    private ReadOnlySpan<Half> RecentValue(int layer, int kvh, int j, int stagePos)
    {
        KvCacheLayout l = Layout;
        return j >= stagePos
            ? _stageValues[layer].AsSpan((((j - stagePos) * l.KvHeads) + kvh) * l.ValueLength, l.ValueLength)
            : _ringValues[layer].AsSpan(((kvh * Window) + (j % Window)) * l.ValueLength, l.ValueLength);
    }

    private struct AttentionJob : IParallelJob
    {
        public CompressedKvCache Cache;
        public int Layer;
        public int Position;
        public float* Queries;
        public float* Output;

        public readonly void Execute(int index)
        {
            int kvHeads = Cache.Layout.KvHeads;
            Cache.AttendGroup(Layer, Position, index / kvHeads, index % kvHeads, Queries, Output);
        }
    }
}
