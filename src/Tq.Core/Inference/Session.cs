using Tq.Core.Cache;
using Tq.Core.Models;
using Tq.Core.Sampling;

namespace Tq.Core.Inference;

/// <summary>
/// One sequence over a <see cref="Model"/>: its KV cache, its token history and the logits of the last evaluated
/// token. Feeding a prompt that starts with the history only evaluates the new tokens (prefix reuse). Not thread-safe:
/// use one session per concurrent conversation.
/// </summary>
/// <remarks>
/// Two ways to evaluate: <see cref="Evaluate(ReadOnlySpan{int}, CancellationToken)"/> and
/// <see cref="SetHistory(ReadOnlySpan{int}, CancellationToken)"/> compute on the calling thread;
/// <see cref="EvaluateAsync"/> and <see cref="SetHistoryAsync"/> hand the work to the model's scheduler thread, which
/// evaluates the pending tokens of every session of the model in one forward pass per step (continuous batching), so
/// concurrent sessions share each weight read. While an asynchronous evaluation runs the session is busy: any other
/// call that reads or changes it throws <see cref="InvalidOperationException"/>.
/// </remarks>
public sealed class Session : IDisposable
{
    private readonly IKvCache _cache;
    private readonly int[] _history;
    private readonly float[] _logits;
    private readonly int _batchSize;
    private ForwardScratch? _scratch;
    private int _length;
    private bool _hasLogits;
    private bool _disposed;
    private ScheduledEvaluation? _evaluation;
    private volatile bool _scheduled;

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
        _batchSize = Math.Min(options.BatchSize, ContextLength);
        _cache = createCache(model.CreateCacheLayout(ContextLength, _batchSize));
        _history = new int[ContextLength];
        _logits = new float[model.VocabularySize];
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
    public ReadOnlySpan<float> Logits => _hasLogits && !_scheduled
        ? _logits
        : throw new InvalidOperationException(!_scheduled
            ? "No logits: evaluate a token first (the session is empty, reset or truncated)."
            : "No logits: the session is evaluating on the scheduler; await that call first.");

    internal IKvCache Cache => _cache;

    /// <summary>The most tokens of this session one forward pass takes (its cache's batch bound).</summary>
    internal int BatchSize => _batchSize;

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
    public int SetHistory(ReadOnlySpan<int> prompt, CancellationToken cancellationToken = default)
    {
        CheckPrompt(prompt);
        int common = KeepPrefixOf(prompt);
        Evaluate(prompt[common..], cancellationToken);
        return common;
    }

    /// <summary>
    /// <see cref="SetHistory(ReadOnlySpan{int}, CancellationToken)"/> on the model's scheduler thread, batched with the
    /// other sessions' work: makes the history equal to <paramref name="prompt"/>, reusing the longest common prefix
    /// except its last few tokens. Those (up to 4) are always evaluated again, in one pass, so the logits of the last
    /// token come from the same kernel path whether the session was fresh or warm: a repeated request gives the same
    /// logits (prefill passes of fewer than 4 rows use per-row dot products, which round differently).
    /// </summary>
    /// <returns>The number of prompt tokens reused from the cache.</returns>
    /// <exception cref="ArgumentException">An empty prompt, or a token outside the vocabulary.</exception>
    /// <exception cref="ContextOverflowException">The prompt is longer than <see cref="ContextLength"/>; the session is unchanged.</exception>
    /// <exception cref="InvalidOperationException">The session is already evaluating.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between forward passes; the tokens evaluated so far stay in the history.</exception>
    public ValueTask<int> SetHistoryAsync(ReadOnlyMemory<int> prompt, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckPrompt(prompt.Span);
        ScheduledEvaluation evaluation = Schedule(prompt.Span, isPrompt: true, cancellationToken);
        return new ValueTask<int>(evaluation, evaluation.Version);
    }

    /// <summary>
    /// <see cref="Evaluate(ReadOnlySpan{int}, CancellationToken)"/> on the model's scheduler thread, batched with the
    /// other sessions' work: appends <paramref name="tokens"/> to the history and evaluates them.
    /// </summary>
    /// <exception cref="ArgumentException">A token outside the vocabulary.</exception>
    /// <exception cref="ContextOverflowException">The history would exceed <see cref="ContextLength"/>; nothing is evaluated.</exception>
    /// <exception cref="InvalidOperationException">The session is already evaluating.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between forward passes; the tokens evaluated so far stay in the history.</exception>
    public ValueTask EvaluateAsync(ReadOnlyMemory<int> tokens, CancellationToken cancellationToken = default) =>
        ScheduleAppend(tokens.Span, cancellationToken);

    /// <summary><see cref="EvaluateAsync"/> of one token (a decode step on the scheduler); allocates nothing.</summary>
    /// <exception cref="ArgumentException">A token outside the vocabulary.</exception>
    /// <exception cref="ContextOverflowException">The context window is full.</exception>
    /// <exception cref="InvalidOperationException">The session is already evaluating.</exception>
    public ValueTask AppendAsync(int token, CancellationToken cancellationToken = default) =>
        ScheduleAppend([token], cancellationToken);

    /// <summary>Whether an asynchronous evaluation owns the session (set and cleared by the scheduler under its lock).</summary>
    internal bool IsScheduled
    {
        get => _scheduled;
        set => _scheduled = value;
    }

    private ValueTask ScheduleAppend(ReadOnlySpan<int> tokens, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckIdle();
        CheckTokens(tokens);
        if (_length + tokens.Length > ContextLength)
        {
            throw new ContextOverflowException(_length + tokens.Length, ContextLength);
        }

        if (tokens.IsEmpty)
        {
            return default;
        }

        ScheduledEvaluation evaluation = Schedule(tokens, isPrompt: false, cancellationToken);
        return new ValueTask(evaluation, evaluation.Version);
    }

    // Starts the session's reusable evaluation and hands it to the scheduler; returns it as the value task's source.
    private ScheduledEvaluation Schedule(ReadOnlySpan<int> tokens, bool isPrompt, CancellationToken cancellationToken)
    {
        ScheduledEvaluation evaluation = _evaluation ??= new ScheduledEvaluation(this);
        evaluation.Start(tokens, isPrompt, cancellationToken);
        Model.Scheduler.Enqueue(evaluation);
        return evaluation;
    }

    /// <summary>Checks a prompt before anything changes.</summary>
    private void CheckPrompt(ReadOnlySpan<int> prompt)
    {
        CheckIdle();
        if (prompt.IsEmpty)
        {
            throw new ArgumentException("The prompt is empty.", nameof(prompt));
        }

        if (prompt.Length > ContextLength)
        {
            throw new ContextOverflowException(prompt.Length, ContextLength);
        }

        CheckTokens(prompt);
    }

    private void CheckTokens(ReadOnlySpan<int> tokens)
    {
        int vocab = Model.VocabularySize;
        foreach (int token in tokens)
        {
            if ((uint)token >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"Token id {token} is outside the vocabulary of {vocab}.");
            }
        }
    }

    private void CheckIdle()
    {
        if (_scheduled)
        {
            throw new InvalidOperationException("The session is evaluating on the scheduler; await that call before using the session again.");
        }
    }

    /// <summary>
    /// Keeps the longest prefix of the history that <paramref name="prompt"/> shares, leaving at least
    /// <paramref name="evaluateAtLeast"/> tokens to evaluate (at least the last, so <see cref="Logits"/> belong to it),
    /// and returns its length.
    /// </summary>
    internal int KeepPrefixOf(ReadOnlySpan<int> prompt, int evaluateAtLeast = 1)
    {
        int common = Math.Min(prompt.CommonPrefixLength(Tokens), Math.Max(0, prompt.Length - evaluateAtLeast));

        if (common < _length && !_cache.CanTruncate(common))
        {
            // A sliding-window ring has moved past the window before `common`: nothing is reusable.
            ResetCore();
            common = 0;
        }

        TruncateCore(common);
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
        CheckIdle();
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _length);
        TruncateCore(length);
    }

    /// <summary>Forgets everything (hard reset of history and cache).</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckIdle();
        ResetCore();
    }

    private void TruncateCore(int length)
    {
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
            EvaluateCore(kept, default, CancellationToken.None);
        }
        else
        {
            _cache.Truncate(length);
            _length = length;
        }

        _hasLogits = false;
    }

    private void ResetCore()
    {
        _cache.Reset();
        _length = 0;
        _hasLogits = false;
    }

    /// <summary>Releases the cache. An evaluation still running on the scheduler is cancelled and waited for first.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Model.Scheduler.Withdraw(this);
        _cache.Dispose();
    }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> and copies the logits of every one of them into <paramref name="allLogits"/>
    /// (row per token), for perplexity; an empty destination keeps only the last row.
    /// </summary>
    internal void Evaluate(ReadOnlySpan<int> tokens, Span<float> allLogits, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckIdle();
        EvaluateCore(tokens, allLogits, cancellationToken);
    }

    private void EvaluateCore(ReadOnlySpan<int> tokens, Span<float> allLogits, CancellationToken cancellationToken)
    {
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

        // The activations are allocated on first use: sessions evaluated by the scheduler never need them.
        ForwardScratch scratch = _scratch ??= new ForwardScratch(Model, _batchSize);
        for (int start = 0; start < tokens.Length; start += scratch.MaxBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReadOnlySpan<int> batch = tokens.Slice(start, Math.Min(scratch.MaxBatch, tokens.Length - start));
            _hasLogits = false;
            Model.Forward(batch, _length, _cache, scratch, all);
            if (all)
            {
                scratch.Logits.AsSpan(0, batch.Length * vocab).CopyTo(allLogits[(start * vocab)..]);
            }

            Evaluated(batch, scratch.Logits.AsSpan((all ? batch.Length - 1 : 0) * vocab, vocab));
        }
    }

    /// <summary>Records that <paramref name="tokens"/> were evaluated into the cache, the last one giving <paramref name="lastLogits"/>.</summary>
    internal void Evaluated(ReadOnlySpan<int> tokens, ReadOnlySpan<float> lastLogits)
    {
        tokens.CopyTo(_history.AsSpan(_length));
        _length += tokens.Length;
        lastLogits.CopyTo(_logits);
        _hasLogits = true;
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
