using Tq.Core.Cache;
using Tq.Core.Models;
using Tq.Core.Sampling;

namespace Tq.Core.Inference;

/// <summary>
/// One sequence over a <see cref="Model"/>: its KV cache, its token history and the logits of the last evaluated
/// token. Feeding a prompt that starts with the history only evaluates the new tokens (prefix reuse). Not thread-safe:
/// use one session per concurrent conversation.
/// </summary>
public sealed class Session : IDisposable
{
    private readonly IKvCache _cache;
    private readonly ForwardScratch _scratch;
    private readonly int[] _history;
    private int _length;
    private bool _hasLogits;
    private bool _disposed;

    internal Session(Model model, SessionOptions options)
        : this(model, options, layout => KvCacheFactory.Create(layout, options.KvCache))
    {
    }

    /// <summary>Creates a session whose cache <paramref name="createCache"/> builds (e.g. a TurboQuant cache).</summary>
    internal Session(Model model, SessionOptions options, Func<KvCacheLayout, IKvCache> createCache)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(createCache);
        options.Validate();
        Model = model;
        ContextLength = options.ContextLength > 0 ? options.ContextLength
            : model.TrainedContextLength > 0 ? model.TrainedContextLength
            : throw new ArgumentException("The model declares no context length; set SessionOptions.ContextLength.", nameof(options));
        int batch = Math.Min(options.BatchSize, ContextLength);
        _cache = createCache(model.CreateCacheLayout(ContextLength, batch));
        _scratch = new ForwardScratch(model, batch);
        _history = new int[ContextLength];
    }

    /// <summary>The model.</summary>
    public Model Model { get; }

    /// <summary>The most tokens the session holds.</summary>
    public int ContextLength { get; }

    /// <summary>Tokens in the history (the next position).</summary>
    public int Length => _length;

    /// <summary>The token history.</summary>
    public ReadOnlySpan<int> Tokens => _history.AsSpan(0, _length);

    /// <summary>Bytes the KV cache holds.</summary>
    public long KvCacheBytes => _cache.AllocatedBytes;

    /// <summary>KV-cache bytes per token (all layers).</summary>
    public long KvCacheBytesPerToken => _cache.BytesPerToken;

    /// <summary>The logits of the last evaluated token (valid until the next call that changes the session).</summary>
    /// <exception cref="InvalidOperationException">No token has been evaluated since the session was created, reset or truncated.</exception>
    public ReadOnlySpan<float> Logits => _hasLogits
        ? _scratch.Logits.AsSpan(0, Model.VocabularySize)
        : throw new InvalidOperationException("No logits: evaluate a token first (the session is empty, reset or truncated).");

    internal IKvCache Cache => _cache;

    /// <summary>Appends <paramref name="tokens"/> to the history and evaluates them in batches.</summary>
    /// <exception cref="ContextOverflowException">The history would exceed <see cref="ContextLength"/>; nothing is evaluated.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between batches; the tokens evaluated so far stay in the history.</exception>
    public void Evaluate(ReadOnlySpan<int> tokens, CancellationToken cancellationToken = default) =>
        Evaluate(tokens, default, cancellationToken);

    /// <summary>Appends one token and evaluates it (decode).</summary>
    public void Append(int token) => Evaluate([token], default, CancellationToken.None);

    /// <summary>
    /// Makes the history equal to <paramref name="prompt"/>, reusing the longest common prefix already in the cache
    /// and evaluating only the rest (the last token is always evaluated, so <see cref="Logits"/> belong to it).
    /// </summary>
    /// <returns>The number of prompt tokens reused from the cache.</returns>
    /// <exception cref="ArgumentException">An empty prompt.</exception>
    /// <exception cref="ContextOverflowException">The prompt is longer than <see cref="ContextLength"/>; the session is unchanged.</exception>
    public int Prompt(ReadOnlySpan<int> prompt, CancellationToken cancellationToken = default)
    {
        if (prompt.IsEmpty)
        {
            throw new ArgumentException("The prompt is empty.", nameof(prompt));
        }

        if (prompt.Length > ContextLength)
        {
            throw new ContextOverflowException(prompt.Length, ContextLength);
        }

        int common = prompt.CommonPrefixLength(Tokens);
        if (common == prompt.Length)
        {
            common--;
        }

        if (common < _length && !_cache.CanTruncate(common))
        {
            // A sliding-window ring has moved past the window before `common`: nothing is reusable.
            Reset();
            common = 0;
        }

        Truncate(common);
        Evaluate(prompt[common..], cancellationToken);
        return common;
    }

    /// <summary>
    /// Samples up to <paramref name="maxTokens"/> tokens, appending each to the history. Stops early after a token for
    /// which <paramref name="isEndOfGeneration"/> is true (that token is yielded but not evaluated).
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing has been evaluated yet (no logits to sample from).</exception>
    /// <exception cref="ContextOverflowException">The context window fills before the end.</exception>
    public IEnumerable<int> Generate(Sampler sampler, int maxTokens, Func<int, bool>? isEndOfGeneration = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        _ = Logits;
        return GenerateCore(sampler, maxTokens, isEndOfGeneration, cancellationToken);
    }

    /// <summary>
    /// Forgets every token from <paramref name="length"/> on; the next evaluation continues from there. When a
    /// sliding-window layer no longer holds the window before <paramref name="length"/>, the kept tokens are evaluated again.
    /// </summary>
    public void Truncate(int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _length);
        if (length == _length)
        {
            return;
        }

        if (!_cache.CanTruncate(length))
        {
            // A sliding-window ring has moved past the window before `length`: rebuild the cache from the history.
            int[] kept = _history.AsSpan(0, length).ToArray();
            _cache.Reset();
            _length = 0;
            Evaluate(kept, default, CancellationToken.None);
        }
        else
        {
            _cache.Truncate(length);
            _length = length;
        }

        _hasLogits = false;
    }

    /// <summary>Forgets everything (hard reset of history and cache).</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _cache.Reset();
        _length = 0;
        _hasLogits = false;
    }

    /// <summary>Releases the cache.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _cache.Dispose();
        }
    }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> and copies the logits of every one of them into <paramref name="allLogits"/>
    /// (row per token), for perplexity; an empty destination keeps only the last row.
    /// </summary>
    internal void Evaluate(ReadOnlySpan<int> tokens, Span<float> allLogits, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tokens.IsEmpty)
        {
            return;
        }

        if (_length + tokens.Length > ContextLength)
        {
            throw new ContextOverflowException(_length + tokens.Length, ContextLength);
        }

        int vocab = Model.VocabularySize;
        bool all = !allLogits.IsEmpty;
        if (all && allLogits.Length < tokens.Length * vocab)
        {
            throw new ArgumentException($"The logits destination holds {allLogits.Length} floats; {tokens.Length} × {vocab} are needed.", nameof(allLogits));
        }

        for (int start = 0; start < tokens.Length; start += _scratch.MaxBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReadOnlySpan<int> batch = tokens.Slice(start, Math.Min(_scratch.MaxBatch, tokens.Length - start));
            _hasLogits = false;
            Model.Forward(batch, _length, _cache, _scratch, all);
            batch.CopyTo(_history.AsSpan(_length));
            _length += batch.Length;
            if (all)
            {
                _scratch.Logits.AsSpan(0, batch.Length * vocab).CopyTo(allLogits[(start * vocab)..]);
                if (batch.Length > 1)
                {
                    // Logits exposes row 0: keep the last token's row there.
                    _scratch.Logits.AsSpan((batch.Length - 1) * vocab, vocab).CopyTo(_scratch.Logits);
                }
            }

            _hasLogits = true;
        }
    }

    private IEnumerable<int> GenerateCore(Sampler sampler, int maxTokens, Func<int, bool>? isEndOfGeneration, CancellationToken cancellationToken)
    {
        for (int i = 0; i < maxTokens; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int token = sampler.Sample(Logits, Tokens);
            yield return token;
            if (isEndOfGeneration?.Invoke(token) == true || i == maxTokens - 1)
            {
                yield break;
            }

            Append(token);
        }
    }
}
