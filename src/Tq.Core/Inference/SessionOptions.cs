using Tq.Core.Cache;

namespace Tq.Core.Inference;

/// <summary>The context window and batching of a <see cref="Session"/>.</summary>
public sealed class SessionOptions
{
    /// <summary>Tokens the session holds (KV-cache capacity); 0 (default) uses the model's trained context.</summary>
    public int ContextLength { get; set; }

    /// <summary>The most prompt tokens evaluated per forward pass (llama.cpp's <c>n_ubatch</c>); default 512.</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>The kind and settings of the KV cache; default FP16.</summary>
    public KvCacheOptions KvCache { get; set; } = new();

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative context or a non-positive batch size.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(KvCache);
        KvCache.Validate();
        if (ContextLength < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "The context length cannot be negative (0 means the model's).");
        }

        if (BatchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be positive.");
        }
    }
}
