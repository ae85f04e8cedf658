using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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

    [ThreadStatic]
    private static float[]? t_scratch;

    private readonly Half[][] _keys;
    private readonly Half[][] _values;
    private int _length;

    /// <summary>Allocates the cache for <paramref name="layout"/>.</summary>
    public F16KvCache(KvCacheLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Layout = layout;
        _keys = new Half[layout.Layers][];
        _values = new Half[layout.Layers][];
        for (int l = 0; l < layout.Layers; l++)
        {
            _keys[l] = GC.AllocateUninitializedArray<Half>(checked(layout.Capacity * layout.KvHeads * layout.KeyLength), pinned: true);
            _values[l] = GC.AllocateUninitializedArray<Half>(checked(layout.Capacity * layout.KvHeads * layout.ValueLength), pinned: true);
        }
    }

    /// <inheritdoc />
    public KvCacheLayout Layout { get; }

    /// <summary>How attention rounds; <see cref="AttentionMode.Flash"/> (default) matches llama.cpp's CPU default.</summary>
    public AttentionMode Mode { get; init; } = AttentionMode.Flash;

    /// <inheritdoc />
    public int Length => _length;

    /// <inheritdoc />
    public long BytesPerToken => (long)Layout.Layers * Layout.KvHeads * (Layout.KeyLength + Layout.ValueLength) * sizeof(ushort);

    /// <inheritdoc />
    public long AllocatedBytes => BytesPerToken * Layout.Capacity;

    /// <inheritdoc />
    public void Store(int layer, int position, int count, ReadOnlySpan<float> keysBeforeRope, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        KvCacheLayout l = Layout;
        CheckBatch(layer, position, count);
        int kRow = l.KvHeads * l.KeyLength, vRow = l.KvHeads * l.ValueLength;
        if (keys.Length < count * kRow)
        {
            throw new ArgumentException($"The keys hold {keys.Length} floats; {count} × {kRow} are needed.", nameof(keys));
        }

        if (values.Length < count * vRow)
        {
            throw new ArgumentException($"The values hold {values.Length} floats; {count} × {vRow} are needed.", nameof(values));
        }

        Span<Half> k = _keys[layer], v = _values[layer];
        for (int t = 0; t < count; t++)
        {
            for (int h = 0; h < l.KvHeads; h++)
            {
                TensorPrimitives.ConvertToHalf(
                    keys.Slice((t * kRow) + (h * l.KeyLength), l.KeyLength),
                    k.Slice(((h * l.Capacity) + position + t) * l.KeyLength, l.KeyLength));
                TensorPrimitives.ConvertToHalf(
                    values.Slice((t * vRow) + (h * l.ValueLength), l.ValueLength),
                    v.Slice(((h * l.Capacity) + position + t) * l.ValueLength, l.ValueLength));
            }
        }
    }

    /// <inheritdoc />
    public void Attend(int layer, int position, int count, ReadOnlySpan<float> queries, Span<float> output, WorkerPool? pool)
    {
        KvCacheLayout l = Layout;
        CheckBatch(layer, position, count);
        if (queries.Length < count * l.Heads * l.KeyLength)
        {
            throw new ArgumentException($"The queries hold {queries.Length} floats; {count} × {l.Heads} × {l.KeyLength} are needed.", nameof(queries));
        }

        if (output.Length < count * l.Heads * l.ValueLength)
        {
            throw new ArgumentException($"The output holds {output.Length} floats; {count} × {l.Heads} × {l.ValueLength} are needed.", nameof(output));
        }

        fixed (Half* k = _keys[layer])
        fixed (Half* v = _values[layer])
        fixed (float* q = queries)
        fixed (float* o = output)
        {
            var job = new AttentionJob { Mode = Mode, Layout = l, Keys = (ushort*)k, Values = (ushort*)v, Queries = q, Output = o, Position = position };
            if (pool is null)
            {
                for (int i = 0; i < count * l.Heads; i++)
                {
                    job.Execute(i);
                }
            }
            else
            {
                pool.Run(ref job, count * l.Heads);
            }
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
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _length);
        _length = length;
    }

    /// <inheritdoc />
    public void Reset() => _length = 0;

    /// <summary>Releases nothing: the cache is managed memory.</summary>
    public void Dispose()
    {
    }

    private void CheckBatch(int layer, int position, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, Layout.Layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (position < 0 || position > _length)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"A batch must start within the {_length} committed tokens (no gaps).");
        }

        if (position + count > Layout.Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Tokens {position}..{position + count - 1} do not fit the cache capacity of {Layout.Capacity}.");
        }
    }

    private static float* Scratch(int floats)
    {
        float[]? s = t_scratch;
        if (s is null || s.Length < floats)
        {
            s = GC.AllocateUninitializedArray<float>(Math.Max(floats, 4096), pinned: true);
            t_scratch = s;
        }

        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(s));
    }

    private struct AttentionJob : IParallelJob
    {
        public AttentionMode Mode;
        public KvCacheLayout Layout;
        public ushort* Keys;
        public ushort* Values;
        public float* Queries;
        public float* Output;
        public int Position;

        public readonly void Execute(int index)
        {
            KvCacheLayout l = Layout;
            int t = index / l.Heads, h = index % l.Heads;
            int kvh = h / l.GroupSize;
            int dk = l.KeyLength, dv = l.ValueLength;
            int n = Position + t + 1;

            // scratch: query (dk) | scores (n) | block of converted rows (BlockRows × max(dk, dv))
            int maxD = Math.Max(dk, dv);
            float* q = Scratch(dk + n + (BlockRows * maxD) + (2 * dv) + 16);
            float* scores = q + dk;
            float* block = scores + n;

            float* query = Queries + ((long)t * l.Heads * dk) + (h * dk);
            for (int i = 0; i < dk; i++)
            {
                q[i] = (float)(Half)query[i];
            }

            ushort* keys = Keys + ((long)kvh * l.Capacity * dk);
            var qs = new ReadOnlySpan<float>(q, dk);
            float max = float.NegativeInfinity;
            for (int j0 = 0; j0 < n; j0 += BlockRows)
            {
                int rows = Math.Min(BlockRows, n - j0);
                FloatConversion.HalfToSingle(keys + ((long)j0 * dk), block, rows * dk, SimdPath.Auto);
                for (int r = 0; r < rows; r++)
                {
                    float s = TensorPrimitives.Dot(qs, new ReadOnlySpan<float>(block + (r * dk), dk)) * l.AttentionScale;
                    scores[j0 + r] = s;
                    max = MathF.Max(max, s);
                }
            }

            var output = new Span<float>(Output + ((long)t * l.Heads * dv) + (h * dv), dv);
            ushort* values = Values + ((long)kvh * l.Capacity * dv);
            if (Mode == AttentionMode.Flash)
            {
                // ggml's CPU flash attention: online softmax with the value sum kept in FP16 (rounded after every
                // multiply-add) and divided by the float sum of weights at the end.
                Span<float> acc = new(block + (BlockRows * maxD), dv);
                Span<Half> halves = MemoryMarshal.Cast<float, Half>(new Span<float>(block, BlockRows * maxD))[..dv];
                Span<float> row = new(block + (BlockRows * maxD) + dv, dv);
                acc.Clear();
                float m = float.NegativeInfinity, weightSum = 0;
                for (int j = 0; j < n; j++)
                {
                    float s = scores[j];
                    float ms = 1, vs = 1;
                    if (s > m)
                    {
                        ms = MathF.Exp(m - s);
                        m = s;
                        if (ms != 1)
                        {
                            TensorPrimitives.Multiply(acc, ms, acc);
                            TensorPrimitives.ConvertToHalf(acc, halves);
                            TensorPrimitives.ConvertToSingle(halves, acc);
                        }
                    }
                    else
                    {
                        vs = MathF.Exp(s - m);
                    }

                    FloatConversion.HalfToSingle(values + ((long)j * dv), (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(row)), dv, SimdPath.Auto);
                    TensorPrimitives.FusedMultiplyAdd(row, vs, acc, acc);
                    TensorPrimitives.ConvertToHalf(acc, halves);
                    TensorPrimitives.ConvertToSingle(halves, acc);
                    weightSum = (weightSum * ms) + vs;
                }

                TensorPrimitives.Multiply(acc, 1.0f / weightSum, output);
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
            for (int j0 = 0; j0 < n; j0 += BlockRows)
            {
                int rows = Math.Min(BlockRows, n - j0);
                FloatConversion.HalfToSingle(values + ((long)j0 * dv), block, rows * dv, SimdPath.Auto);
                for (int r = 0; r < rows; r++)
                {
                    float w = (float)(Half)(scores[j0 + r] * inv);
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(block + (r * dv), dv), w, output, output);
                }
            }
        }
    }
}
