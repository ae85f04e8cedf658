using System.Numerics.Tensors;
using Tq.Core.Cache;
using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Core.Models;

/// <summary>
/// One forward pass of a batch through the layers: the residual stream and the shared pieces an architecture's block
/// is wired from (as llama.cpp's <c>build_norm</c>, <c>build_attn</c>, <c>build_ffn</c>, <c>build_moe_ffn</c>). Pieces
/// read <see cref="Normed"/> and write <see cref="Projected"/>; the block decides norms and residual adds.
/// Everything lives in the <see cref="ForwardScratch"/>: a pass allocates nothing. The batch's rows may belong to
/// several sequences (<see cref="SequenceSlice"/>, continuous batching): every weight is read once for all of them, and
/// only the KV cache and attention are per sequence.
/// </summary>
internal ref struct ForwardPass
{
    private readonly Model _model;
    private readonly ForwardScratch _scratch;
    private readonly ReadOnlySpan<SequenceSlice> _sequences;
    private readonly WorkerPool _pool;
    private readonly int _tokens;
    private readonly bool _tiled;
    private long _mark;

    /// <summary>Starts a pass over the rows of <paramref name="sequences"/> whose embeddings are in the scratch's residual.</summary>
    public ForwardPass(Model model, ForwardScratch scratch, ReadOnlySpan<SequenceSlice> sequences, int tokens, long mark)
    {
        _model = model;
        _scratch = scratch;
        _sequences = sequences;
        _pool = model.Pool;
        _tokens = tokens;
        _mark = mark;

        // One kernel path per pass, so a row's result never depends on the other rows: a pass of one token per sequence
        // (decode steps of several sessions) uses the per-row dot products of a lone decode step; a prompt pass of 4+
        // tokens uses the tiled kernel for every product, experts included whatever number of rows each is routed.
        _tiled = tokens != sequences.Length && tokens >= MatMul.TiledMinTokens;
        int dim = model.EmbeddingLength;
        X = scratch.X.AsSpan(0, tokens * dim);
        Normed = scratch.Normed.AsSpan(0, tokens * dim);
        Projected = scratch.Projected.AsSpan(0, tokens * dim);
    }

    /// <summary>The residual stream, [tokens][dim].</summary>
    public Span<float> X { get; }

    /// <summary>The input of the next piece, [tokens][dim].</summary>
    public Span<float> Normed { get; }

    /// <summary>The output of the last piece, [tokens][dim].</summary>
    public Span<float> Projected { get; }

    /// <summary>The profiling mark after the last stage.</summary>
    public readonly long Mark => _mark;

    /// <summary><see cref="Normed"/> = RMSNorm(<see cref="X"/>)·<paramref name="weight"/>.</summary>
    public void Norm(float[] weight)
    {
        RmsNormRows(X, weight, Normed, _tokens);
        _mark = _model.Profile.Add(ForwardProfile.Stage.Elementwise, _mark);
    }

    /// <summary><see cref="X"/> += <see cref="Projected"/>.</summary>
    public void AddToResidual()
    {
        TensorPrimitives.Add(X, Projected, X);
        _mark = _model.Profile.Add(ForwardProfile.Stage.Elementwise, _mark);
    }

    /// <summary><see cref="X"/> += RMSNorm(<see cref="Projected"/>)·<paramref name="weight"/> (Gemma's post-norms).</summary>
    public void AddNormalizedToResidual(float[] weight)
    {
        RmsNormRows(Projected, weight, Normed, _tokens);
        TensorPrimitives.Add(X, Normed, X);
        _mark = _model.Profile.Add(ForwardProfile.Stage.Elementwise, _mark);
    }

    /// <summary>
    /// Self-attention of <see cref="Normed"/> into <see cref="Projected"/>: Q/K/V projections (fused or not, with
    /// biases), per-head Q/K RMSNorm when the layer has it, the layer's RoPE, the query scale, then the cache stores
    /// the keys and values and attends (with the layer's scale, soft-cap and window), and the output projection.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Attention(LayerWeights w, int layer)
    {
        Model m = _model;
        ForwardScratch s = _scratch;
        int t = _tokens;
        int qDim = m.HeadCount * m.KeyLength, kvDim = m.HeadCountKv * m.KeyLength, vDim = m.HeadCountKv * m.ValueLength;
        int attnDim = m.HeadCount * m.ValueLength;
        Span<float> q = s.Query.AsSpan(0, t * qDim);
        Span<float> k = s.Key.AsSpan(0, t * kvDim);
        Span<float> kPre = s.KeyBeforeRope.AsSpan(0, t * kvDim);
        Span<float> v = s.Value.AsSpan(0, t * vDim);
        Span<float> attn = s.Attention.AsSpan(0, t * attnDim);
        if (w.FusedQkv is WeightMatrix fusedQkv)
        {
            int fusedDim = qDim + kvDim + vDim;
            Span<float> fused = s.Fused.AsSpan(0, t * fusedDim);
            Multiply(fusedQkv, Normed, fused, t);
            for (int i = 0; i < t; i++)
            {
                Span<float> row = fused.Slice(i * fusedDim, fusedDim);
                row[..qDim].CopyTo(q.Slice(i * qDim, qDim));
                row.Slice(qDim, kvDim).CopyTo(kPre.Slice(i * kvDim, kvDim));
                row.Slice(qDim + kvDim, vDim).CopyTo(v.Slice(i * vDim, vDim));
            }
        }
        else
        {
            Multiply(w.Query, Normed, q, t);
            Multiply(w.Key, Normed, kPre, t);
            Multiply(w.Value, Normed, v, t);
        }

        _mark = _model.Profile.Add(ForwardProfile.Stage.Qkv, _mark);
        AddRows(q, w.QueryBias, t);
        AddRows(kPre, w.KeyBias, t);
        AddRows(v, w.ValueBias, t);
        if (w.QueryNorm is not null)
        {
            RmsNormRows(q, w.QueryNorm, q, t * m.HeadCount);
        }

        if (w.KeyNorm is not null)
        {
            RmsNormRows(kPre, w.KeyNorm, kPre, t * m.HeadCountKv);
        }

        _mark = _model.Profile.Add(ForwardProfile.Stage.Elementwise, _mark);
        kPre.CopyTo(k);
        KvCacheLayout layout = _sequences[0].Cache.Layout;
        RotaryEmbedding rope = layout.Attention[layer].Rope;
        int tableLength = rope.TableLength;
        int tables = layout.RopeIndex(layer) * s.MaxBatch * tableLength;
        for (int i = 0; i < t; i++)
        {
            ReadOnlySpan<float> table = s.RopeTables.AsSpan(tables + (i * tableLength), tableLength);
            rope.Apply(q.Slice(i * qDim, qDim), m.HeadCount, table);
            rope.Apply(k.Slice(i * kvDim, kvDim), m.HeadCountKv, table);
        }

        if (m.HyperParameters.QueryScale != 0)
        {
            TensorPrimitives.Multiply(q, m.HyperParameters.QueryScale, q);
        }

        _mark = _model.Profile.Add(ForwardProfile.Stage.Rope, _mark);
        foreach (ref readonly SequenceSlice sequence in _sequences)
        {
            int r0 = sequence.Start, n = sequence.Count;
            sequence.Cache.Store(layer, sequence.Position, n, kPre.Slice(r0 * kvDim, n * kvDim), k.Slice(r0 * kvDim, n * kvDim), v.Slice(r0 * vDim, n * vDim));
            sequence.Cache.Attend(layer, sequence.Position, n, q.Slice(r0 * qDim, n * qDim), attn.Slice(r0 * attnDim, n * attnDim), _pool);
        }

        _mark = _model.Profile.Add(ForwardProfile.Stage.Attention, _mark);
        Multiply(w.Output, attn, Projected, t);
        AddRows(Projected, w.OutputBias, t);
        _mark = _model.Profile.Add(ForwardProfile.Stage.AttentionOutput, _mark);
    }

    /// <summary>The gated feed-forward network of <see cref="Normed"/> into <see cref="Projected"/>: act(gate)·up, then down.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void FeedForward(LayerWeights w, FeedForwardActivation activation)
    {
        ForwardScratch s = _scratch;
        int t = _tokens, ff = _model.FeedForwardLength;
        Span<float> gate = s.Gate.AsSpan(0, t * ff);
        Span<float> up = s.Up.AsSpan(0, t * ff);
        if (w.FusedGateUp is WeightMatrix fusedGateUp)
        {
            Span<float> fused = s.Fused.AsSpan(0, t * 2 * ff);
            Multiply(fusedGateUp, Normed, fused, t);
            for (int i = 0; i < t; i++)
            {
                fused.Slice(2 * i * ff, ff).CopyTo(gate.Slice(i * ff, ff));
                fused.Slice((2 * i * ff) + ff, ff).CopyTo(up.Slice(i * ff, ff));
            }
        }
        else
        {
            Multiply(w.Gate, Normed, gate, t);
            Multiply(w.Up, Normed, up, t);
        }

        _mark = _model.Profile.Add(ForwardProfile.Stage.Mlp, _mark);
        Activate(activation, gate, up);
        _mark = _model.Profile.Add(ForwardProfile.Stage.Elementwise, _mark);
        Multiply(w.Down, gate, Projected, t);
        _mark = _model.Profile.Add(ForwardProfile.Stage.Mlp, _mark);
    }

    /// <summary>
    /// The mixture of experts of <see cref="Normed"/> into <see cref="Projected"/>, as llama.cpp's <c>build_moe_ffn</c>
    /// with softmax gating and normalized weights: router softmax, the top-k experts, their weights divided by their sum,
    /// each chosen expert's SwiGLU FFN (an expert's weights are read once for all the batch's tokens routed to it, and
    /// never for the others), and the weighted outputs summed in rank order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MixtureOfExperts(LayerWeights w)
    {
        Model m = _model;
        ForwardScratch s = _scratch;
        ModelHyperParameters hp = m.HyperParameters;
        int t = _tokens, dim = m.EmbeddingLength, experts = hp.ExpertCount, used = hp.ExpertUsedCount, ff = hp.ExpertFeedForwardLength;
        Span<float> logits = s.RouterLogits.AsSpan(0, t * experts);
        Multiply(w.Router!.Value, Normed, logits, t);
        for (int i = 0; i < t; i++)
        {
            Route(logits.Slice(i * experts, experts), s.ExpertIds.AsSpan(i * used, used), s.ExpertWeights.AsSpan(i * used, used));
        }

        _mark = _model.Profile.Add(ForwardProfile.Stage.Elementwise, _mark);
        Span<float> slotOutputs = s.SlotOutputs.AsSpan(0, t * used * dim);
        for (int e = 0; e < experts; e++)
        {
            int rows = 0;
            for (int slot = 0; slot < t * used; slot++)
            {
                if (s.ExpertIds[slot] == e)
                {
                    Normed.Slice(slot / used * dim, dim).CopyTo(s.MoeInput.AsSpan(rows * dim, dim));
                    s.MoeSlots[rows++] = slot;
                }
            }

            if (rows == 0)
            {
                continue;
            }

            Span<float> input = s.MoeInput.AsSpan(0, rows * dim);
            Span<float> gate = s.Gate.AsSpan(0, rows * ff);
            Span<float> up = s.Up.AsSpan(0, rows * ff);
            Span<float> output = s.MoeOutput.AsSpan(0, rows * dim);
            Multiply(w.ExpertGate[e], input, gate, rows);
            Multiply(w.ExpertUp[e], input, up, rows);
            TensorMath.SwiGlu(gate, up, gate);
            Multiply(w.ExpertDown[e], gate, output, rows);
            for (int r = 0; r < rows; r++)
            {
                int slot = s.MoeSlots[r];
                TensorPrimitives.Multiply(output.Slice(r * dim, dim), s.ExpertWeights[slot], slotOutputs.Slice(slot * dim, dim));
            }
        }

        for (int i = 0; i < t; i++)
        {
            Span<float> sum = Projected.Slice(i * dim, dim);
            slotOutputs.Slice(i * used * dim, dim).CopyTo(sum);
            for (int k = 1; k < used; k++)
            {
                TensorPrimitives.Add(sum, slotOutputs.Slice(((i * used) + k) * dim, dim), sum);
            }
        }

        _mark = _model.Profile.Add(ForwardProfile.Stage.Mlp, _mark);
    }

    // ggml_soft_max (float max, expf, double sum, scale by 1/sum), argsort top-k (descending), weights / clamp(Σ, 2^-14).
    private static void Route(Span<float> logits, Span<int> ids, Span<float> weights)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits)
        {
            max = MathF.Max(max, l);
        }

        double total = 0;
        for (int e = 0; e < logits.Length; e++)
        {
            float p = MathF.Exp(logits[e] - max);
            logits[e] = p;
            total += p;
        }

        float inverse = (float)(1.0 / total);
        for (int e = 0; e < logits.Length; e++)
        {
            logits[e] *= inverse;
        }

        for (int k = 0; k < ids.Length; k++)
        {
            int best = -1;
            for (int e = 0; e < logits.Length; e++)
            {
                if ((best < 0 || logits[e] > logits[best]) && !ids[..k].Contains(e))
                {
                    best = e;
                }
            }

            ids[k] = best;
            weights[k] = logits[best];
        }

        double sum = 0;
        foreach (float wk in weights)
        {
            sum += wk;
        }

        float clamped = MathF.Max((float)sum, 6.103515625e-5f);
        for (int k = 0; k < weights.Length; k++)
        {
            weights[k] /= clamped;
        }
    }

    private static void Activate(FeedForwardActivation activation, Span<float> gate, ReadOnlySpan<float> up)
    {
        switch (activation)
        {
            case FeedForwardActivation.Silu:
                TensorMath.SwiGlu(gate, up, gate);
                break;
            case FeedForwardActivation.GeluTanh:
                TensorMath.GeGlu(gate, up, gate);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown feed-forward activation.");
        }
    }

    private readonly void Multiply(in WeightMatrix weights, ReadOnlySpan<float> input, Span<float> output, int tokens) =>
        MatMul.Multiply(weights, input, output, tokens, _pool, SimdPath.Auto, _tiled, _scratch.Kernels);

    private readonly void RmsNormRows(ReadOnlySpan<float> x, float[] weight, Span<float> destination, int rows)
    {
        int n = weight.Length;
        float epsilon = _model.HyperParameters.RmsNormEpsilon;
        for (int i = 0; i < rows; i++)
        {
            TensorMath.RmsNorm(x.Slice(i * n, n), weight, epsilon, destination.Slice(i * n, n));
        }
    }

    private static void AddRows(Span<float> rows, float[]? bias, int count)
    {
        if (bias is null)
        {
            return;
        }

        for (int i = 0; i < count; i++)
        {
            Span<float> row = rows.Slice(i * bias.Length, bias.Length);
            TensorPrimitives.Add(row, bias, row);
        }
    }
}
