using Tq.Core.Cache;
using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI;

/// <summary>
/// The settings of a TurboQuant chat client: the model, the KV-cache compression, the resources and the default
/// sampling. Plain settable properties, so the class binds from configuration (for example the <c>TurboQuant</c>
/// section of <c>appsettings.json</c>); <see cref="TurboQuantChatOptionsValidator"/> checks it at startup.
/// </summary>
public sealed class TurboQuantChatOptions
{
    private static readonly KvCacheOptions s_cacheDefaults = new();

    /// <summary>
    /// The bit widths <see cref="BitsK"/> and <see cref="BitsV"/> accept: 2, 2.5, 3, 3.5, 4 and 8 for the TurboQuant kind;
    /// 16 (both) and 8 (both) also select the F16 and Q8_0 kinds when <see cref="KvCacheKind"/> is not set.
    /// </summary>
    public static IReadOnlyList<float> AllowedBits { get; } = [2f, 2.5f, 3f, 3.5f, 4f, 8f, 16f];

    /// <summary>
    /// The model: a <c>.gguf</c> file path, or the name of a model downloaded with <c>tq pull</c>
    /// (<c>file.gguf</c>, <c>owner/repo/file.gguf</c> or <c>hf:owner/repo/file.gguf</c>), looked up in
    /// <see cref="ModelCacheDirectory"/>. Required.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>The model id reported in responses and <c>ChatClientMetadata</c>; null uses the file name without <c>.gguf</c>.</summary>
    public string? ModelId { get; set; }

    /// <summary>The model cache folder that names in <see cref="ModelPath"/> are looked up in; null means <c>$TQ_MODELS</c> or <c>~/.cache/tq/models</c>.</summary>
    public string? ModelCacheDirectory { get; set; }

    /// <summary>
    /// How the KV cache stores tokens: <see cref="Core.Cache.KvCacheKind.TurboQuant"/> (compressed to <see cref="BitsK"/> /
    /// <see cref="BitsV"/>), <see cref="Core.Cache.KvCacheKind.Q8_0"/> or <see cref="Core.Cache.KvCacheKind.F16"/> (which
    /// use no bit setting). Null (the default) takes the kind from the bits, the shorthand of <c>tq --bits-k</c>:
    /// BitsK = BitsV = 16 is F16, BitsK = BitsV = 8 is Q8_0, anything else TurboQuant.
    /// </summary>
    public KvCacheKind? KvCacheKind { get; set; }

    /// <summary>
    /// Bits per key coordinate of the TurboQuant cache (default 4): 2, 2.5, 3, 3.5 or 4 for TurboQuant codes, 8 for Q8_0
    /// rows inside the TurboQuant layout. Key precision dominates quality, so keep it at 4 or more. Without
    /// <see cref="KvCacheKind"/>, 16 (with <see cref="BitsV"/> 16) means the FP16 cache and 8 with 8 the Q8_0 cache.
    /// </summary>
    public float BitsK { get; set; } = 4f;

    /// <summary>Bits per value coordinate (default 2; values tolerate low precision): the same choices as <see cref="BitsK"/>.</summary>
    public float BitsV { get; set; } = 2f;

    /// <summary>The cache kind in effect: <see cref="KvCacheKind"/>, or the kind the bits name when it is not set.</summary>
    internal KvCacheKind EffectiveKvCacheKind => KvCacheKind ?? (BitsK, BitsV) switch
    {
        (16f, 16f) => Core.Cache.KvCacheKind.F16,
        (8f, 8f) => Core.Cache.KvCacheKind.Q8_0,
        _ => Core.Cache.KvCacheKind.TurboQuant,
    };

    /// <summary>The first tokens of every sequence kept in FP16 (attention sinks; default 4, as <see cref="KvCacheOptions.SinkTokens"/>).</summary>
    public int SinkTokens { get; set; } = s_cacheDefaults.SinkTokens;

    /// <summary>
    /// The most recent tokens kept in FP16 before they are compressed (default 14, as <see cref="KvCacheOptions.RecentWindow"/>:
    /// the largest measured quality gain that still keeps a full 1,024-token cache within 1/4.5 of FP16; see docs/kv-cache.md).
    /// 0 compresses even the current token.
    /// </summary>
    public int RecentWindow { get; set; } = s_cacheDefaults.RecentWindow;

    /// <summary>
    /// The first and last layers kept at higher precision (Q8_0), counted at each end (default 0, as
    /// <see cref="KvCacheOptions.BoundaryLayers"/>: on small models one protected pair already breaks the memory target;
    /// raise it for deep models where the first/last layers' keys are outliers).
    /// </summary>
    public int BoundaryLayers { get; set; } = s_cacheDefaults.BoundaryLayers;

    /// <summary>
    /// Compress keys before the rotary embedding is applied (default false, as <see cref="KvCacheOptions.PreRopeKeys"/>:
    /// measured no consistent gain on the test models and about 10x slower attention; docs/kv-cache.md).
    /// </summary>
    public bool PreRopeKeys { get; set; } = s_cacheDefaults.PreRopeKeys;

    /// <summary>Add the 1-bit QJL residual to the key codes (default false: it costs a bit per coordinate for little gain at 4 bits).</summary>
    public bool UseQjl { get; set; }

    /// <summary>The context window in tokens; 0 (the default) uses the model's trained context length.</summary>
    public int ContextSize { get; set; }

    /// <summary>
    /// The most tokens one forward pass evaluates, across all the concurrent requests it batches (llama.cpp's
    /// <c>n_ubatch</c>; default 512).
    /// </summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>How many times an answer whose tool call is malformed is generated again, with another seed, before what was generated is returned as text (default 2).</summary>
    public int MaxToolCallRetries { get; set; } = 2;

    /// <summary>The worker threads of the forward pass; 0 (the default) uses every core.</summary>
    public int Threads { get; set; }

    /// <summary>How many requests are generated at once, each with its own session and KV cache (default 4); further requests wait.</summary>
    public int MaxConcurrentSessions { get; set; } = 4;

    /// <summary>A bound on the total KV-cache memory of all sessions in bytes; 0 (the default) means unbounded.</summary>
    public long MaxKvCacheBytes { get; set; }

    /// <summary>Load the model when the client is created rather than on the first request (default false).</summary>
    public bool EagerLoad { get; set; }

    /// <summary>
    /// A chat template to use instead of the model's <c>tokenizer.chat_template</c>: the name of a built-in template or
    /// the Jinja text itself; null uses the model's.
    /// </summary>
    public string? ChatTemplate { get; set; }

    /// <summary>The tool-call syntax of the model; <see cref="ToolCallFormat.Auto"/> (the default) detects it from the chat template.</summary>
    public ToolCallFormat ToolCallFormat { get; set; } = ToolCallFormat.Auto;

    /// <summary>The sampling seed when a request gives none; null draws a random seed per request.</summary>
    public long? Seed { get; set; }

    /// <summary>The default sampling temperature (0.8); 0 is greedy. A request's <c>ChatOptions.Temperature</c> overrides it.</summary>
    public float Temperature { get; set; } = 0.8f;

    /// <summary>The default nucleus-sampling probability mass (0.95; 1 disables it). <c>ChatOptions.TopP</c> overrides it.</summary>
    public float TopP { get; set; } = 0.95f;

    /// <summary>The default number of most likely tokens sampled from (40; 0 disables it). <c>ChatOptions.TopK</c> overrides it.</summary>
    public int TopK { get; set; } = 40;

    /// <summary>The default min-p: tokens less likely than this fraction of the most likely one are dropped (0.05; 0 disables it).</summary>
    public float MinP { get; set; } = 0.05f;

    /// <summary>The default repetition penalty (1 = none), applied to recently generated tokens.</summary>
    public float RepetitionPenalty { get; set; } = 1f;

    /// <summary>The default cap on generated tokens; null generates until the model stops or the context is full. <c>ChatOptions.MaxOutputTokens</c> overrides it.</summary>
    public int? MaxOutputTokens { get; set; }
}
