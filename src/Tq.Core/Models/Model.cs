using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Tq.Core.Cache;
using Tq.Core.Gguf;
using Tq.Core.Inference;
using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Core.Models;

/// <summary>
/// A decoder-only transformer loaded from a GGUF file: its weights stay memory-mapped and immutable, so one model
/// serves many <see cref="Session"/>s. The forward pass is shared by every supported architecture
/// (<c>llama</c>, <c>qwen2</c>, <c>phi3</c>); an architecture only chooses RoPE pairing, biases and fused tensors.
/// </summary>
public sealed unsafe class Model : IDisposable
{
    private readonly GgufFile _file;
    private readonly bool _ownsFile;
    private readonly LayerWeights[] _layers;
    private readonly WeightMatrix _embedding;
    private readonly WeightMatrix _output;
    private readonly float[] _outputNorm;
    private readonly WorkerPool _pool;
    private bool _disposed;

    private Model(GgufFile file, bool ownsFile, ModelOptions options)
    {
        _file = file;
        _ownsFile = ownsFile;
        Info = GgufModelInfo.FromFile(file);
        Architecture = ModelArchitecture.ForName(Info.Architecture);
        if (Info.HeadCountKv <= 0 || Info.HeadCount % Info.HeadCountKv != 0)
        {
            throw new InvalidDataException($"Model '{file.Path}': {Info.HeadCount} heads cannot be grouped over {Info.HeadCountKv} KV heads.");
        }

        RmsNormEpsilon = Info.RmsNormEpsilon > 0 ? Info.RmsNormEpsilon : 1e-5f;
        string? scaling = Info.RopeScalingType;
        float freqScale = 1f;
        if (scaling is "linear" || (scaling is null && Info.RopeScalingFactor > 0))
        {
            freqScale = Info.RopeScalingFactor > 0 ? 1f / Info.RopeScalingFactor : 1f;
        }
        else if (scaling is not null and not "none")
        {
            throw new NotSupportedException($"RoPE scaling '{scaling}' is not supported; supported: none, linear.");
        }

        float[]? freqFactors = file.TryGetTensor("rope_freqs.weight", out _) ? Vector("rope_freqs.weight", Info.RopeDimensionCount / 2) : null;
        Rope = new RotaryEmbedding(Architecture.RopeStyle, Info.KeyLength, Info.RopeDimensionCount, Info.RopeFreqBase, freqScale, freqFactors);

        int dim = Info.EmbeddingLength;
        int vocab = Info.VocabularySize;
        _embedding = Matrix("token_embd.weight", vocab, dim);
        _output = file.TryGetTensor("output.weight", out _) ? Matrix("output.weight", vocab, dim) : _embedding;
        _outputNorm = Vector("output_norm.weight", dim);

        int qDim = HeadCount * KeyLength, kvDim = HeadCountKv * KeyLength, vDim = HeadCountKv * ValueLength;
        int ff = Info.FeedForwardLength;
        _layers = new LayerWeights[Info.BlockCount];
        for (int i = 0; i < _layers.Length; i++)
        {
            string N(string suffix) => ModelArchitecture.LayerTensor(i, suffix);
            bool fusedQkv = Architecture.FusedQkv, fusedGateUp = Architecture.FusedGateUp;
            _layers[i] = new LayerWeights
            {
                AttentionNorm = Vector(N("attn_norm.weight"), dim),
                Query = fusedQkv ? Matrix(N("attn_qkv.weight"), qDim + kvDim + vDim, dim) : Matrix(N("attn_q.weight"), qDim, dim),
                Key = fusedQkv ? default : Matrix(N("attn_k.weight"), kvDim, dim),
                Value = fusedQkv ? default : Matrix(N("attn_v.weight"), vDim, dim),
                QueryBias = Architecture.HasQkvBias ? Vector(N("attn_q.bias"), qDim) : null,
                KeyBias = Architecture.HasQkvBias ? Vector(N("attn_k.bias"), kvDim) : null,
                ValueBias = Architecture.HasQkvBias ? Vector(N("attn_v.bias"), vDim) : null,
                Output = Matrix(N("attn_output.weight"), dim, HeadCount * ValueLength),
                FeedForwardNorm = Vector(N("ffn_norm.weight"), dim),
                Gate = fusedGateUp ? default : Matrix(N("ffn_gate.weight"), ff, dim),
                Up = Matrix(N("ffn_up.weight"), fusedGateUp ? 2 * ff : ff, dim),
                Down = Matrix(N("ffn_down.weight"), dim, ff),
            };
        }

        _pool = new WorkerPool(options.Threads);
    }

    /// <summary>The hyper-parameters read from the file.</summary>
    public GgufModelInfo Info { get; }

    /// <summary>The GGUF file the weights are mapped from (for the tokenizer and chat template).</summary>
    public GgufFile File => _file;

    /// <summary>The architecture name (<c>general.architecture</c>).</summary>
    public string ArchitectureName => Architecture.Name;

    /// <summary>Size of the vocabulary (rows of the output head).</summary>
    public int VocabularySize => Info.VocabularySize;

    /// <summary>The context the model was trained for.</summary>
    public int TrainedContextLength => Info.ContextLength;

    /// <summary>The model dimension.</summary>
    public int EmbeddingLength => Info.EmbeddingLength;

    /// <summary>Transformer layers.</summary>
    public int LayerCount => Info.BlockCount;

    /// <summary>Threads the model's matrix products use.</summary>
    public int Threads => _pool.ThreadCount;

    /// <summary>The beginning-of-sequence token id (<c>tokenizer.ggml.bos_token_id</c>), or -1.</summary>
    public int BosTokenId => (int)_file.Metadata.GetInt64OrDefault("tokenizer.ggml.bos_token_id", -1);

    /// <summary>Bytes of the mapped weights file.</summary>
    public long FileSize => _file.FileSize;

    internal ModelArchitecture Architecture { get; }

    internal RotaryEmbedding Rope { get; }

    internal float RmsNormEpsilon { get; }

    internal int HeadCount => Info.HeadCount;

    internal int HeadCountKv => Info.HeadCountKv;

    internal int KeyLength => Info.KeyLength;

    internal int ValueLength => Info.ValueLength;

    internal int FeedForwardLength => Info.FeedForwardLength;

    internal WorkerPool Pool => _pool;

    /// <summary>Maps the GGUF file at <paramref name="path"/> and prepares its weights.</summary>
    /// <exception cref="NotSupportedException">The architecture, a tensor type or a RoPE scaling is not supported.</exception>
    /// <exception cref="InvalidDataException">A tensor is missing or has the wrong shape (the message names it).</exception>
    public static Model Load(string path, ModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new ModelOptions();
        options.Validate();
        GgufFile file = GgufFile.Open(path);
        try
        {
            return new Model(file, ownsFile: true, options);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Prepares the weights of an already open file, which the model then owns and disposes.</summary>
    /// <exception cref="NotSupportedException">The architecture, a tensor type or a RoPE scaling is not supported.</exception>
    /// <exception cref="InvalidDataException">A tensor is missing or has the wrong shape (the message names it).</exception>
    public static Model Load(GgufFile file, ModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        options ??= new ModelOptions();
        options.Validate();
        return new Model(file, ownsFile: true, options);
    }

    /// <summary>Creates a session (its own KV cache and history) over this model.</summary>
    public Session CreateSession(SessionOptions? options = null) => new(this, options ?? new SessionOptions());

    /// <summary>Creates a session whose KV cache <paramref name="createCache"/> builds from the model's layout (e.g. a TurboQuant cache).</summary>
    internal Session CreateSession(SessionOptions? options, Func<KvCacheLayout, IKvCache> createCache) => new(this, options ?? new SessionOptions(), createCache);

    /// <summary>Stops the worker threads and unmaps the file; sessions must no longer be used.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _pool.Dispose();
        if (_ownsFile)
        {
            _file.Dispose();
        }
    }

    /// <summary>Creates the KV-cache layout of this model for <paramref name="capacity"/> tokens.</summary>
    internal KvCacheLayout CreateCacheLayout(int capacity) =>
        new(LayerCount, HeadCount, HeadCountKv, KeyLength, ValueLength, capacity, Rope);

    /// <summary>
    /// Runs <paramref name="tokens"/> (at most <see cref="ForwardScratch.MaxBatch"/>) at positions
    /// <paramref name="position"/>.. through the model, storing their keys/values in <paramref name="cache"/> and
    /// leaving logits in <see cref="ForwardScratch.Logits"/>: one row for the last token, or one per token when
    /// <paramref name="allLogits"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Forward(ReadOnlySpan<int> tokens, int position, IKvCache cache, ForwardScratch scratch, bool allLogits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int t = tokens.Length;
        ArgumentOutOfRangeException.ThrowIfZero(t, nameof(tokens));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(t, scratch.MaxBatch, nameof(tokens));
        int dim = EmbeddingLength, vocab = VocabularySize;
        int qDim = HeadCount * KeyLength, kvDim = HeadCountKv * KeyLength, vDim = HeadCountKv * ValueLength;
        int attnDim = HeadCount * ValueLength, ff = FeedForwardLength;
        WorkerPool pool = _pool;

        long mark = ForwardProfile.Start();
        Span<float> x = scratch.X.AsSpan(0, t * dim);
        for (int i = 0; i < t; i++)
        {
            int token = tokens[i];
            if ((uint)token >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"Token id {token} is outside the vocabulary of {vocab}.");
            }

            MatMul.GetRow(_embedding, token, x.Slice(i * dim, dim));
        }

        int tableLength = Rope.TableLength;
        for (int i = 0; i < t; i++)
        {
            Rope.ComputeTable(position + i, scratch.RopeTables.AsSpan(i * tableLength, tableLength));
        }

        mark = ForwardProfile.Add(ForwardProfile.Stage.Embed, mark);
        Span<float> normed = scratch.Normed.AsSpan(0, t * dim);
        Span<float> q = scratch.Query.AsSpan(0, t * qDim);
        Span<float> k = scratch.Key.AsSpan(0, t * kvDim);
        Span<float> kPre = scratch.KeyBeforeRope.AsSpan(0, t * kvDim);
        Span<float> v = scratch.Value.AsSpan(0, t * vDim);
        Span<float> attn = scratch.Attention.AsSpan(0, t * attnDim);
        Span<float> projected = scratch.Projected.AsSpan(0, t * dim);
        Span<float> gate = scratch.Gate.AsSpan(0, t * ff);
        Span<float> up = scratch.Up.AsSpan(0, t * ff);

        for (int l = 0; l < _layers.Length; l++)
        {
            LayerWeights w = _layers[l];
            RmsNorm(x, w.AttentionNorm, normed, t, dim);
            mark = ForwardProfile.Add(ForwardProfile.Stage.Elementwise, mark);

            if (Architecture.FusedQkv)
            {
                int fusedDim = qDim + kvDim + vDim;
                Span<float> fused = scratch.Fused.AsSpan(0, t * fusedDim);
                MatMul.Multiply(w.Query, normed, fused, t, pool);
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
                MatMul.Multiply(w.Query, normed, q, t, pool);
                MatMul.Multiply(w.Key, normed, kPre, t, pool);
                MatMul.Multiply(w.Value, normed, v, t, pool);
            }

            mark = ForwardProfile.Add(ForwardProfile.Stage.Qkv, mark);
            if (w.QueryBias is not null)
            {
                AddRows(q, w.QueryBias, t);
                AddRows(kPre, w.KeyBias!, t);
                AddRows(v, w.ValueBias!, t);
            }

            mark = ForwardProfile.Add(ForwardProfile.Stage.Elementwise, mark);
            kPre.CopyTo(k);
            for (int i = 0; i < t; i++)
            {
                ReadOnlySpan<float> table = scratch.RopeTables.AsSpan(i * tableLength, tableLength);
                Rope.Apply(q.Slice(i * qDim, qDim), HeadCount, table);
                Rope.Apply(k.Slice(i * kvDim, kvDim), HeadCountKv, table);
            }

            mark = ForwardProfile.Add(ForwardProfile.Stage.Rope, mark);
            cache.Store(l, position, t, kPre, k, v);
            cache.Attend(l, position, t, q, attn, pool);
            mark = ForwardProfile.Add(ForwardProfile.Stage.Attention, mark);
            MatMul.Multiply(w.Output, attn, projected, t, pool);
            mark = ForwardProfile.Add(ForwardProfile.Stage.AttentionOutput, mark);
            TensorPrimitives.Add(x, projected, x);

            RmsNorm(x, w.FeedForwardNorm, normed, t, dim);
            mark = ForwardProfile.Add(ForwardProfile.Stage.Elementwise, mark);
            if (Architecture.FusedGateUp)
            {
                Span<float> fused = scratch.Fused.AsSpan(0, t * 2 * ff);
                MatMul.Multiply(w.Up, normed, fused, t, pool);
                for (int i = 0; i < t; i++)
                {
                    fused.Slice(2 * i * ff, ff).CopyTo(gate.Slice(i * ff, ff));
                    fused.Slice((2 * i * ff) + ff, ff).CopyTo(up.Slice(i * ff, ff));
                }
            }
            else
            {
                MatMul.Multiply(w.Gate, normed, gate, t, pool);
                MatMul.Multiply(w.Up, normed, up, t, pool);
            }

            // SwiGLU: silu(gate)·up, with silu(g) = g·σ(g).
            mark = ForwardProfile.Add(ForwardProfile.Stage.Mlp, mark);
            TensorMath.SwiGlu(gate, up, gate);
            mark = ForwardProfile.Add(ForwardProfile.Stage.Elementwise, mark);
            MatMul.Multiply(w.Down, gate, projected, t, pool);
            mark = ForwardProfile.Add(ForwardProfile.Stage.Mlp, mark);
            TensorPrimitives.Add(x, projected, x);
            mark = ForwardProfile.Add(ForwardProfile.Stage.Elementwise, mark);
        }

        int first = allLogits ? 0 : t - 1;
        int rows = t - first;
        if (scratch.Logits.Length < rows * vocab)
        {
            scratch.Logits = new float[rows * vocab];
        }

        Span<float> last = normed[..(rows * dim)];
        RmsNorm(x[(first * dim)..], _outputNorm, last, rows, dim);
        MatMul.Multiply(_output, last, scratch.Logits.AsSpan(0, rows * vocab), rows, pool);
        cache.Commit(position + t);
        ForwardProfile.Add(ForwardProfile.Stage.Head, mark);
    }

    private void RmsNorm(ReadOnlySpan<float> x, float[] weight, Span<float> destination, int rows, int dim)
    {
        for (int i = 0; i < rows; i++)
        {
            TensorMath.RmsNorm(x.Slice(i * dim, dim), weight, RmsNormEpsilon, destination.Slice(i * dim, dim));
        }
    }

    private static void AddRows(Span<float> rows, float[] bias, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Span<float> row = rows.Slice(i * bias.Length, bias.Length);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    private WeightMatrix Matrix(string name, int rows, int cols)
    {
        GgufTensorInfo tensor = Tensor(name);
        if (tensor.Dimensions.Count is < 1 or > 2 || tensor.Columns != cols || tensor.Rows != rows)
        {
            throw new InvalidDataException($"Tensor '{name}' has shape [{string.Join(", ", tensor.Dimensions)}]; [{cols}, {rows}] was expected.");
        }

        if (!Dequantizer.IsSupported(tensor.Type))
        {
            throw new NotSupportedException($"Tensor '{name}' has type {tensor.Type}, which the kernels do not support.");
        }

        return new WeightMatrix(tensor.Type, rows, cols, _file.GetTensorPointer(tensor), tensor.ByteSize);
    }

    private float[] Vector(string name, int length)
    {
        WeightMatrix m = Matrix(name, 1, length);
        float[] values = new float[length];
        MatMul.GetRow(m, 0, values);
        return values;
    }

    private GgufTensorInfo Tensor(string name) =>
        _file.TryGetTensor(name, out GgufTensorInfo? tensor) ? tensor
        : throw new InvalidDataException($"Model '{_file.Path}' ({Architecture.Name}) has no tensor '{name}'.");
}
