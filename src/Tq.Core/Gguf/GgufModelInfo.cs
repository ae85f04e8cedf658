using System.Globalization;

namespace Tq.Core.Gguf;

/// <summary>
/// The hyper-parameters and tokenizer facts of a model, read from the standard GGUF keys
/// (<c>general.*</c>, <c>{arch}.*</c>, <c>tokenizer.*</c>).
/// </summary>
public sealed class GgufModelInfo
{
    private GgufModelInfo()
    {
    }

    /// <summary><c>general.architecture</c>, e.g. <c>llama</c>.</summary>
    public required string Architecture { get; init; }

    /// <summary><c>general.name</c>, if present.</summary>
    public string? Name { get; init; }

    /// <summary><c>{arch}.context_length</c>: the context the model was trained for.</summary>
    public int ContextLength { get; init; }

    /// <summary><c>{arch}.embedding_length</c>.</summary>
    public int EmbeddingLength { get; init; }

    /// <summary><c>{arch}.block_count</c>: the number of layers.</summary>
    public int BlockCount { get; init; }

    /// <summary><c>{arch}.feed_forward_length</c>.</summary>
    public int FeedForwardLength { get; init; }

    /// <summary><c>{arch}.attention.head_count</c>.</summary>
    public int HeadCount { get; init; }

    /// <summary>
    /// <c>{arch}.attention.head_count_kv</c> (defaults to the head count). Models that store one count per layer
    /// (an array) report the largest here and every layer's in <see cref="HeadCountKvPerLayer"/>.
    /// </summary>
    public int HeadCountKv { get; init; }

    /// <summary>The KV head count of each layer (all equal to <see cref="HeadCountKv"/> unless the file stores an array).</summary>
    public required IReadOnlyList<int> HeadCountKvPerLayer { get; init; }

    /// <summary><c>{arch}.attention.key_length</c> (defaults to embedding length / heads).</summary>
    public int KeyLength { get; init; }

    /// <summary><c>{arch}.attention.value_length</c> (defaults to the key length).</summary>
    public int ValueLength { get; init; }

    /// <summary><c>{arch}.rope.dimension_count</c> (defaults to the key length).</summary>
    public int RopeDimensionCount { get; init; }

    /// <summary><c>{arch}.rope.freq_base</c> (default 10000).</summary>
    public float RopeFreqBase { get; init; }

    /// <summary><c>{arch}.rope.scaling.type</c> (<c>none</c>, <c>linear</c>, <c>yarn</c>), if present.</summary>
    public string? RopeScalingType { get; init; }

    /// <summary><c>{arch}.rope.scaling.factor</c> (0 when absent).</summary>
    public float RopeScalingFactor { get; init; }

    /// <summary><c>{arch}.rope.scaling.original_context_length</c> (0 when absent).</summary>
    public int RopeScalingOriginalContextLength { get; init; }

    /// <summary><c>{arch}.attention.layer_norm_rms_epsilon</c> (0 when absent).</summary>
    public float RmsNormEpsilon { get; init; }

    /// <summary><c>{arch}.attention.layer_norm_epsilon</c> (0 when absent).</summary>
    public float LayerNormEpsilon { get; init; }

    /// <summary>The vocabulary size: <c>{arch}.vocab_size</c> or the length of <c>tokenizer.ggml.tokens</c>.</summary>
    public int VocabularySize { get; init; }

    /// <summary><c>tokenizer.ggml.model</c> (<c>llama</c> for SentencePiece, <c>gpt2</c> for byte-level BPE, ...).</summary>
    public string? TokenizerModel { get; init; }

    /// <summary><c>tokenizer.ggml.pre</c>: the BPE pre-tokenizer name.</summary>
    public string? TokenizerPre { get; init; }

    /// <summary><c>tokenizer.chat_template</c>, if present.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>The total number of tensor elements (the parameter count).</summary>
    public long ParameterCount { get; init; }

    /// <summary>Reads the model facts from an open file.</summary>
    /// <exception cref="KeyNotFoundException">A required key (architecture, embedding length, block count, head count) is missing.</exception>
    /// <exception cref="InvalidCastException">A key has the wrong type.</exception>
    public static GgufModelInfo FromFile(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        GgufMetadata m = file.Metadata;
        string arch = m.GetString("general.architecture");
        string K(string suffix) => string.Create(CultureInfo.InvariantCulture, $"{arch}.{suffix}");

        int embedding = m.GetInt32(K("embedding_length"));
        int heads = m.GetInt32(K("attention.head_count"));
        if (heads <= 0 || embedding <= 0)
        {
            throw new InvalidDataException($"Model '{file.Path}' declares {heads} attention heads and embedding length {embedding}.");
        }

        int keyLength = m.GetInt32OrDefault(K("attention.key_length"), embedding / heads);
        int blocks = m.GetInt32(K("block_count"));
        int[] kvHeads = ReadPerLayer(m, K("attention.head_count_kv"), blocks, heads);
        int vocab = m.TryGetValue(K("vocab_size"), out GgufValue? vs) ? vs.AsInt32()
            : m.TryGetValue("tokenizer.ggml.tokens", out GgufValue? toks) ? toks.Count : 0;

        return new GgufModelInfo
        {
            Architecture = arch,
            Name = m.GetStringOrDefault("general.name"),
            ContextLength = m.GetInt32OrDefault(K("context_length"), 0),
            EmbeddingLength = embedding,
            BlockCount = blocks,
            FeedForwardLength = m.GetInt32OrDefault(K("feed_forward_length"), 0),
            HeadCount = heads,
            HeadCountKv = kvHeads.Length == 0 ? heads : kvHeads.Max(),
            HeadCountKvPerLayer = kvHeads,
            KeyLength = keyLength,
            ValueLength = m.GetInt32OrDefault(K("attention.value_length"), keyLength),
            RopeDimensionCount = m.GetInt32OrDefault(K("rope.dimension_count"), keyLength),
            RopeFreqBase = m.GetSingleOrDefault(K("rope.freq_base"), 10000f),
            RopeScalingType = m.GetStringOrDefault(K("rope.scaling.type")),
            RopeScalingFactor = m.GetSingleOrDefault(K("rope.scaling.factor"), 0f),
            RopeScalingOriginalContextLength = m.GetInt32OrDefault(K("rope.scaling.original_context_length"), 0),
            RmsNormEpsilon = m.GetSingleOrDefault(K("attention.layer_norm_rms_epsilon"), 0f),
            LayerNormEpsilon = m.GetSingleOrDefault(K("attention.layer_norm_epsilon"), 0f),
            VocabularySize = vocab,
            TokenizerModel = m.GetStringOrDefault("tokenizer.ggml.model"),
            TokenizerPre = m.GetStringOrDefault("tokenizer.ggml.pre"),
            ChatTemplate = m.GetStringOrDefault("tokenizer.chat_template"),
            ParameterCount = file.Tensors.Sum(t => t.ElementCount),
        };
    }

    private static int[] ReadPerLayer(GgufMetadata m, string key, int blocks, int defaultValue)
    {
        if (!m.TryGetValue(key, out GgufValue? value))
        {
            return Enumerable.Repeat(defaultValue, blocks).ToArray();
        }

        if (!value.IsArray)
        {
            return Enumerable.Repeat(value.AsInt32(), blocks).ToArray();
        }

        int[] perLayer = value.AsInt32Array();
        return perLayer.Length == blocks ? perLayer
            : throw new InvalidDataException($"GGUF metadata '{key}' has {perLayer.Length} per-layer entries for {blocks} layers.");
    }
}
