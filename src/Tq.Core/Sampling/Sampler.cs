using Tq.Core.Quantization;
using Tq.Core.Tensors;
namespace Tq.Core.Sampling;

/// <summary>
/// The sampling chain: picks the next token from logits with llama.cpp's default chain (penalties → top-k → top-p →
/// min-p → temperature → draw) and its own deterministic generator, after the chain's constraint stages (JSON mode,
/// a forced tool name: <see cref="ISamplingConstraint"/>) have removed the tokens they forbid. Buffers are sized to the
/// vocabulary once, so sampling allocates nothing per token. Not thread-safe: one sampler per generation.
/// </summary>
public sealed class Sampler
{
    private readonly ISamplingConstraint[] _constraints = [];
    private readonly SamplerOptions _options;
    private DeterministicRandom _random;
    private int[] _ids = [];
    private float[] _logits = [];
    private float[] _keys = [];
    private int[] _counts = [];

    /// <summary>Creates a sampler; the options are copied and validated.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public Sampler(SamplerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _random = new DeterministicRandom(options.Seed ?? (ulong)Random.Shared.NextInt64());
    }

    /// <summary>Creates the chain <paramref name="constraints"/> (in order) → the stages of <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    internal Sampler(SamplerOptions options, params IEnumerable<ISamplingConstraint> constraints)
        : this(options)
    {
        ArgumentNullException.ThrowIfNull(constraints);
        _constraints = [.. constraints];
    }

    /// <summary>True when the sampler always picks the most likely token.</summary>
    public bool IsGreedy => _options.Temperature <= 0 || _options.TopK == 1;

    /// <summary>Chooses the next token (and, as llama.cpp's chain does, lets every constraint stage follow it).</summary>
    /// <param name="logits">The model's logits for the next position (one per vocabulary entry).</param>
    /// <param name="history">Tokens so far (prompt and generated), for the penalties.</param>
    /// <exception cref="ArgumentException">Empty logits, or logits with NaN (which would make the choice meaningless).</exception>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        int token = Choose(logits, history);
        foreach (ISamplingConstraint constraint in _constraints)
        {
            constraint.Accept(token);
        }

        return token;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Choose(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        int n = logits.Length;
        if (n == 0)
        {
            throw new ArgumentException("The logits are empty.", nameof(logits));
        }

        if (_ids.Length < n)
        {
            _ids = new int[n];
            _logits = new float[n];
            _keys = new float[n];
            _counts = new int[n];
        }

        Span<float> values = _logits.AsSpan(0, n);
        logits.CopyTo(values);
        foreach (ISamplingConstraint constraint in _constraints)
        {
            constraint.Apply(values);
        }

        if (float.IsNaN(System.Numerics.Tensors.TensorPrimitives.Sum(values)))
        {
            foreach (float v in values)
            {
                if (float.IsNaN(v))
                {
                    throw new ArgumentException("The logits contain NaN.", nameof(logits));
                }
            }
        }

        ApplyPenalties(values, history);
        if (IsGreedy)
        {
            return TensorMath.ArgMax(values);
        }

        Span<int> ids = _ids.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            ids[i] = i;
        }

        int count = SortTopK(ids, values, n, _options.TopK);
        count = TopP(values, count, _options.TopP);
        count = MinP(values, count, _options.MinP);

        // Temperature then draw from the softmax of the survivors (sorted, so values[0] is the maximum).
        float temperature = _options.Temperature;
        float max = values[0] / temperature;
        double sum = 0;
        for (int i = 0; i < count; i++)
        {
            float p = MathF.Exp((values[i] / temperature) - max);
            _keys[i] = p;
            sum += p;
        }

        double u = _random.NextDouble() * sum;
        double cumulative = 0;
        for (int i = 0; i < count; i++)
        {
            cumulative += _keys[i];
            if (u < cumulative)
            {
                return ids[i];
            }
        }

        return ids[count - 1];
    }

    private void ApplyPenalties(Span<float> values, ReadOnlySpan<int> history)
    {
        SamplerOptions o = _options;
        if (o.PenaltyLastN == 0 || (o.RepeatPenalty == 1f && o.FrequencyPenalty == 0f && o.PresencePenalty == 0f))
        {
            return;
        }

        ReadOnlySpan<int> window = o.PenaltyLastN < 0 || history.Length <= o.PenaltyLastN ? history : history[^o.PenaltyLastN..];
        foreach (int token in window)
        {
            if ((uint)token < (uint)values.Length)
            {
                _counts[token]++;
            }
        }

        foreach (int token in window)
        {
            if ((uint)token >= (uint)values.Length || _counts[token] == 0)
            {
                continue;
            }

            int c = _counts[token];
            _counts[token] = 0; // each distinct token once, and the counts are clean for the next call
            float v = values[token];
            v = v <= 0 ? v * o.RepeatPenalty : v / o.RepeatPenalty;
            values[token] = v - (c * o.FrequencyPenalty) - o.PresencePenalty;
        }
    }

    // Orders the candidates by descending logit: the k best when 0 < k < n, else all. Returns the candidate count.
    private int SortTopK(Span<int> ids, Span<float> values, int n, int k)
    {
        int count = k > 0 && k < n ? k : n;
        Span<float> keys = _keys.AsSpan(0, n);
        if (count < n)
        {
            // Bounded selection: a min-heap of the best k seen so far, then one sort of those k.
            for (int i = 0; i < count; i++)
            {
                keys[i] = values[i];
                ids[i] = i;
                SiftUp(keys, ids, i);
            }

            for (int i = count; i < n; i++)
            {
                if (values[i] > keys[0])
                {
                    keys[0] = values[i];
                    ids[0] = i;
                    SiftDown(keys, ids, count);
                }
            }
        }
        else
        {
            values.CopyTo(keys);
        }

        // Sort descending: negate and sort ascending.
        Span<float> head = keys[..count];
        for (int i = 0; i < count; i++)
        {
            head[i] = -head[i];
        }

        head.Sort(ids[..count]);
        for (int i = 0; i < count; i++)
        {
            values[i] = -head[i];
        }

        return count;
    }

    private static int TopP(ReadOnlySpan<float> values, int count, float p)
    {
        if (p >= 1f || count <= 1)
        {
            return count;
        }

        float max = values[0];
        double sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += MathF.Exp(values[i] - max);
        }

        double cumulative = 0;
        for (int i = 0; i < count; i++)
        {
            cumulative += MathF.Exp(values[i] - max) / sum;
            if (cumulative >= p)
            {
                return i + 1;
            }
        }

        return count;
    }

    private static int MinP(ReadOnlySpan<float> values, int count, float p)
    {
        if (p <= 0f || count <= 1)
        {
            return count;
        }

        float threshold = values[0] + MathF.Log(p);
        int kept = 1;
        while (kept < count && values[kept] >= threshold)
        {
            kept++;
        }

        return kept;
    }

    private static void SiftUp(Span<float> keys, Span<int> ids, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Less(keys[i], ids[i], keys[parent], ids[parent]))
            {
                return;
            }

            (keys[i], keys[parent]) = (keys[parent], keys[i]);
            (ids[i], ids[parent]) = (ids[parent], ids[i]);
            i = parent;
        }
    }

    private static void SiftDown(Span<float> keys, Span<int> ids, int count)
    {
        int i = 0;
        while (true)
        {
            int l = (2 * i) + 1, r = l + 1, smallest = i;
            if (l < count && Less(keys[l], ids[l], keys[smallest], ids[smallest]))
            {
                smallest = l;
            }

            if (r < count && Less(keys[r], ids[r], keys[smallest], ids[smallest]))
            {
                smallest = r;
            }

            if (smallest == i)
            {
                return;
            }

            (keys[i], keys[smallest]) = (keys[smallest], keys[i]);
            (ids[i], ids[smallest]) = (ids[smallest], ids[i]);
            i = smallest;
        }
    }

    // Heap order: the "smallest" is the weakest candidate (lower logit, or higher id on a tie).
    private static bool Less(float a, int idA, float b, int idB) => a < b || (a == b && idA > idB);
}
