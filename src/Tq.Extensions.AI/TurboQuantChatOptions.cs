using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI;

/// <summary>
/// How <see cref="TurboQuantEngine"/> loads a model and serves chat requests. Bindable from configuration (e.g. an
/// <c>appsettings.json</c> section) and validated at startup by <see cref="TurboQuantChatOptionsValidator"/>.
/// </summary>
public sealed class TurboQuantChatOptions
{
    /// <summary>Path of the GGUF model file, or the reference of a model already in the model store (e.g. <c>hf:owner/repo/file.gguf</c>). Required.</summary>
    public string? ModelPath { get; set; }

    /// <summary>The model id reported in responses and metadata; default: the file name without extension.</summary>
    public string? ModelId { get; set; }

    /// <summary>The model store folder used to resolve <see cref="ModelPath"/> references; default: the store's default folder.</summary>
    public string? ModelStorePath { get; set; }

    /// <summary>Key bits of the TurboQuant KV cache (1-8); 0 keeps keys in FP16. Default 0.</summary>
    public int BitsK { get; set; }

    /// <summary>Value bits of the TurboQuant KV cache (1-8); 0 keeps values in FP16. Default 0.</summary>
    public int BitsV { get; set; }

    /// <summary>Leading tokens per sequence kept in FP16 by the TurboQuant cache (attention sinks). Default 4.</summary>
    public int SinkTokens { get; set; } = 4;

    /// <summary>Most recent tokens kept in FP16 by the TurboQuant cache. Default 128.</summary>
    public int RecentWindow { get; set; } = 128;

    /// <summary>First and last layers kept in FP16 by the TurboQuant cache. Default 0.</summary>
    public int BoundaryLayers { get; set; }

    /// <summary>Tokens per session (KV-cache capacity); 0 uses the model's trained context. Default 0.</summary>
    public int ContextLength { get; set; }

    /// <summary>Most prompt tokens evaluated per forward pass. Default 512.</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>Threads of the model's worker pool (the caller included); 0 uses every core. Default 0.</summary>
    public int Threads { get; set; }

    /// <summary>Most sessions (each with its own KV cache) alive at once, busy or kept idle for prefix reuse; excess requests wait. Default 4.</summary>
    public int MaxConcurrentSessions { get; set; } = 4;

    /// <summary>Most bytes all sessions' KV caches may hold together; 0 means no limit besides <see cref="MaxConcurrentSessions"/>. Default 0.</summary>
    public long MaxKvCacheBytes { get; set; }

    /// <summary>Load the model when the engine is created (or at host start) rather than on the first request. Default false.</summary>
    public bool LoadEagerly { get; set; }

    /// <summary>A built-in template name (<c>chatml</c>, <c>llama3</c>, ...) or Jinja text that replaces the model's chat template; null uses the model's.</summary>
    public string? ChatTemplate { get; set; }

    /// <summary>The model's tool-call syntax; <see cref="ToolCallFormat.Auto"/> (default) detects it from the chat template.</summary>
    public ToolCallFormat ToolCallFormat { get; set; } = ToolCallFormat.Auto;

    /// <summary>How many times a response whose tool call is malformed is generated again (with another seed) before an error is raised. Default 2.</summary>
    public int MaxToolCallRetries { get; set; } = 2;

    /// <summary>Output tokens when a request sets no <c>MaxOutputTokens</c>; 0 lets generation run to the end of the context. Default 0.</summary>
    public int DefaultMaxOutputTokens { get; set; }
}
