using System.Numerics.Tensors;
using Tq.Core.Cache;
using Tq.Core.Gguf;
using Tq.Core.Inference;
using Tq.Core.Tensors;
using Tq.Core.Threading;

namespace Tq.Core.Models;

/// <summary>
/// A decoder-only transformer loaded from a GGUF file: its weights stay memory-mapped and immutable, so one model
/// serves many <see cref="Session"/>s. The architecture's definition (<see cref="ModelArchitecture"/>: llama, qwen2,
/// qwen3, qwen3moe, phi3, gemma2, gemma3) reads its hyper-parameters and tensors and wires each layer; the embedding,
/// the output head and the KV cache are shared.
/// </summary>
public sealed unsafe class Model : IDisposable
{
    private readonly GgufFile _file;
    private readonly bool _ownsFile;
    private readonly LayerWeights[] _layers;
    private readonly WeightMatrix _embedding;
    private readonly WeightMatrix _output;
    private readonly float[] _outputNorm;
    private readonly RopeFactors _ropeFactors;
    private readonly WorkerPool _pool;
    private readonly BatchScheduler _scheduler;
    private bool _disposed;

    private Model(GgufFile file, bool ownsFile, ModelOptions options)
    {
        _file = file;
        _ownsFile = ownsFile;
        Architecture = ModelArchitecture.ForName(file.Metadata.GetString("general.architecture"));
        Info = GgufModelInfo.FromFile(file);
        if (Info.HeadCountKv <= 0 || Info.HeadCount % Info.HeadCountKv != 0)
        {
            throw new InvalidDataException($"Model '{file.Path}': {Info.HeadCount} heads cannot be grouped over {Info.HeadCountKv} KV heads.");
        }

        if (Info.HeadCountKvPerLayer.Any(h => h != Info.HeadCountKv))
        {
            throw new NotSupportedException($"Model '{file.Path}' ({Info.Architecture}) has a different KV head count per layer ('{Info.Architecture}.attention.head_count_kv' is an array), which is not supported.");
        }

        HyperParameters = ModelHyperParameters.Read(file, Info, Architecture);
        Dimensions = new ModelDimensions(Info.EmbeddingLength, Info.HeadCount, Info.HeadCountKv, Info.KeyLength, Info.ValueLength,
            Info.FeedForwardLength, HyperParameters.ExpertCount, HyperParameters.ExpertFeedForwardLength);
        var tensors = new TensorLoader(file, Architecture.Name);
        _ropeFactors = Architecture.LoadRopeFactors(tensors, HyperParameters, Info.RopeDimensionCount / 2);
        int dim = Info.EmbeddingLength;
        int vocab = Info.VocabularySize;
        _embedding = tensors.Matrix("token_embd.weight", vocab, dim);
        _output = Architecture.HasOutputTensor ? tensors.OptionalMatrix("output.weight", vocab, dim) ?? _embedding : _embedding;
        _outputNorm = tensors.Vector("output_norm.weight", dim);
        _layers = new LayerWeights[Info.BlockCount];
        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i] = Architecture.LoadLayer(tensors, Dimensions, i);
        }

        tensors.EnsureAllUsed();
        HasFusedProjections = _layers.Any(l => l.FusedQkv is not null || l.FusedGateUp is not null);

        // Validates the RoPE settings once, with the longest context.
        _ = CreateCacheLayout(Math.Max(1, Info.ContextLength), 1);
        _pool = new WorkerPool(options.Threads);
        _scheduler = new BatchScheduler(this, options.BatchSize);
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

    internal ModelHyperParameters HyperParameters { get; }

    internal ModelDimensions Dimensions { get; }

    /// <summary>Whether a layer has a fused QKV or gate/up matrix (the scratch then holds its unsplit output).</summary>
    internal bool HasFusedProjections { get; }

    /// <summary>Distinct RoPEs across layers (2 when sliding layers have their own base).</summary>
    internal int RopeKinds => HyperParameters.SlidingLayers.Any(s => s) ? 2 : 1;

    internal int HeadCount => Info.HeadCount;

    internal int HeadCountKv => Info.HeadCountKv;

    internal int KeyLength => Info.KeyLength;

    internal int ValueLength => Info.ValueLength;

    internal int FeedForwardLength => Info.FeedForwardLength;

    internal WorkerPool Pool => _pool;

    /// <summary>The scheduler thread that batches the sessions' asynchronous evaluations.</summary>
    internal BatchScheduler Scheduler => _scheduler;

    /// <summary>This model's stage timings (on with <c>TQ_PROFILE=1</c>; read by <c>tq bench</c>).</summary>
    internal ForwardProfile Profile { get; } = new();

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
        _scheduler.Dispose();
        _pool.Dispose();
        if (_ownsFile)
        {
            _file.Dispose();
        }
    }

    /// <summary>
    /// Creates the KV-cache layout of this model for a sequence of <paramref name="capacity"/> tokens stored in batches of
    /// up to <paramref name="maxBatch"/>: each layer's RoPE (LongRoPE factors depend on the context length, as in
    /// llama.cpp), score scale, soft-cap and sliding window.
    /// </summary>
    internal KvCacheLayout CreateCacheLayout(int capacity, int maxBatch = 0) =>
        ModelCacheLayout.Create(Architecture, HyperParameters, _ropeFactors, capacity, maxBatch);

    /// <summary>
    /// Runs <paramref name="tokens"/> (at most <see cref="ForwardScratch.MaxBatch"/>) at positions
    /// <paramref name="position"/>.. through the model, storing their keys/values in <paramref name="cache"/> and
    /// leaving logits in <see cref="ForwardScratch.Logits"/>: one row for the last token, or one per token when
    /// <paramref name="allLogits"/>.
    /// </summary>
    internal void Forward(ReadOnlySpan<int> tokens, int position, IKvCache cache, ForwardScratch scratch, bool allLogits) =>
        Forward(tokens, [new SequenceSlice(cache, position, 0, tokens.Length)], scratch, allLogits);

    /// <summary>
    /// Runs one batch of <paramref name="tokens"/> (at most <see cref="ForwardScratch.MaxBatch"/>) that holds the rows
    /// of several sequences (continuous batching): each weight matrix is read once for every row, while each sequence
    /// stores its keys/values in its own cache and attends to its own history. Leaves logits in
    /// <see cref="ForwardScratch.Logits"/>: a row for the last token of each sequence, in order, or a row per token when
    /// <paramref name="allLogits"/>. The sequences' caches must share one layout's RoPEs (same model, same context length).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<SequenceSlice> sequences, ForwardScratch scratch, bool allLogits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int t = tokens.Length;
        ArgumentOutOfRangeException.ThrowIfZero(t, nameof(tokens));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(t, scratch.MaxBatch, nameof(tokens));
        int dim = EmbeddingLength, vocab = VocabularySize;
        WorkerPool pool = _pool;
        ModelHyperParameters hp = HyperParameters;
        int covered = 0;
        foreach (ref readonly SequenceSlice sequence in sequences)
        {
            if (sequence.Start != covered || sequence.Count <= 0)
            {
                throw new ArgumentException("The sequences must cover the batch's rows in order, each with at least one row.", nameof(sequences));
            }

            covered += sequence.Count;
        }

        if (covered != t)
        {
            throw new ArgumentException($"The sequences cover {covered} rows; the batch has {t}.", nameof(sequences));
        }

        long mark = Profile.Start();
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

        if (hp.EmbeddingScale != 1f)
        {
            TensorPrimitives.Multiply(x, hp.EmbeddingScale, x);
        }

        KvCacheLayout layout = sequences[0].Cache.Layout;
        for (int r = 0; r < layout.Ropes.Count; r++)
        {
            RotaryEmbedding rope = layout.Ropes[r];
            int tableLength = rope.TableLength;
            foreach (ref readonly SequenceSlice sequence in sequences)
            {
                for (int i = 0; i < sequence.Count; i++)
                {
                    rope.ComputeTable(sequence.Position + i, scratch.RopeTables.AsSpan(((r * scratch.MaxBatch) + sequence.Start + i) * tableLength, tableLength));
                }
            }
        }

        mark = Profile.Add(ForwardProfile.Stage.Embed, mark);
        var pass = new ForwardPass(this, scratch, sequences, t, mark);
        for (int l = 0; l < _layers.Length; l++)
        {
            Architecture.Block(ref pass, _layers[l], l);
        }

        mark = pass.Mark;
        int rows = allLogits ? t : sequences.Length;
        if (scratch.Logits.Length < rows * vocab)
        {
            scratch.Logits = new float[rows * vocab];
        }

        Span<float> normed = scratch.Normed.AsSpan(0, rows * dim);
        for (int i = 0; i < rows; i++)
        {
            int row = allLogits ? i : sequences[i].Start + sequences[i].Count - 1;
            TensorMath.RmsNorm(x.Slice(row * dim, dim), _outputNorm, hp.RmsNormEpsilon, normed.Slice(i * dim, dim));
        }

        Span<float> logits = scratch.Logits.AsSpan(0, rows * vocab);
        // The head's rows (one per sequence) use per-row dot products as a lone sequence's one row does, whatever the batch.
        MatMul.Multiply(_output, normed, logits, rows, pool, SimdPath.Auto, forceTiled: allLogits ? null : false, scratch.Kernels);
        if (hp.FinalSoftCap != 0)
        {
            // ggml: scale by 1/c, tanh, scale by c.
            TensorPrimitives.Multiply(logits, 1.0f / hp.FinalSoftCap, logits);
            TensorPrimitives.Tanh(logits, logits);
            TensorPrimitives.Multiply(logits, hp.FinalSoftCap, logits);
        }

        foreach (ref readonly SequenceSlice sequence in sequences)
        {
            sequence.Cache.Commit(sequence.Position + sequence.Count);
        }

        Profile.Add(ForwardProfile.Stage.Head, mark);
    }
}
