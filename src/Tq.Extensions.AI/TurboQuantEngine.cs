using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Tq.Core.Cache;
using Tq.Core.Hub;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Templates;
using Tq.Core.Tokenization;
using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI;

/// <summary>
/// One loaded model shared by every client that serves it: the memory-mapped weights, the tokenizer, the chat template,
/// the tool-call syntax and a bounded pool of sessions (each with its own KV cache). Register it once (a singleton);
/// <see cref="TurboQuantChatClient"/> and the Semantic Kernel adapter run their requests on it.
/// </summary>
/// <remarks>
/// The model is loaded on first use, or at construction when <see cref="TurboQuantChatOptions.EagerLoad"/> is set;
/// loading is thread-safe and happens once. All members are safe to call concurrently.
/// </remarks>
public sealed class TurboQuantEngine : IDisposable
{
    private readonly ILogger _logger;
    private readonly Lazy<LoadedState> _state;
    private readonly object _lifecycle = new();
    private LoadedState? _loaded;
    private volatile bool _disposed;
    private long _completed;
    private long _promptTokens;
    private long _cachedTokens;
    private long _generatedTokens;
    private double _lastDecodeSpeed;

    /// <summary>Creates the engine for <paramref name="options"/> (validated here).</summary>
    /// <param name="options">The model and serving options.</param>
    /// <param name="loggerFactory">Receives load progress and warnings; null logs nothing.</param>
    /// <exception cref="ArgumentException">The options are invalid (the message lists every problem).</exception>
    public TurboQuantEngine(TurboQuantChatOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new TurboQuantChatOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new ArgumentException(string.Join(" ", result.Failures), nameof(options));
        }

        Options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<TurboQuantEngine>();
        ModelPath = new ModelStore(options.ModelCacheDirectory).Resolve(options.ModelPath!);
        KvCache = CreateKvCacheOptions(options);
        ModelId = string.IsNullOrWhiteSpace(options.ModelId) ? Path.GetFileNameWithoutExtension(ModelPath) : options.ModelId;
        _state = new Lazy<LoadedState>(LoadCore, LazyThreadSafetyMode.ExecutionAndPublication);
        if (options.EagerLoad)
        {
            Load();
        }
    }

    /// <summary>The options the engine was created with (do not change them afterwards).</summary>
    public TurboQuantChatOptions Options { get; }

    /// <summary>The resolved path of the GGUF file.</summary>
    public string ModelPath { get; }

    /// <summary>The model id reported in responses (<see cref="TurboQuantChatOptions.ModelId"/> or the file name).</summary>
    public string ModelId { get; }

    /// <summary>Whether the model is loaded.</summary>
    public bool IsLoaded => _state.IsValueCreated;

    /// <summary>The model (loads it on first access).</summary>
    public Model Model => State.Model;

    /// <summary>The tokenizer read from the model file (loads the model on first access).</summary>
    public Tokenizer Tokenizer => State.Tokenizer;

    /// <summary>The chat template in use: <see cref="TurboQuantChatOptions.ChatTemplate"/>, the model's, or ChatML.</summary>
    public ChatTemplate ChatTemplate => State.Template;

    /// <summary>The tool-call syntax used to parse the model's output (never <see cref="ToolCallFormat.Auto"/>).</summary>
    public ToolCallFormat ToolCallFormat => State.ToolCallFormat;

    /// <summary>Tokens one session holds (prompt plus output).</summary>
    public int ContextLength => State.ContextLength;

    /// <summary>The KV-cache settings of every session, mapped from <see cref="TurboQuantChatOptions.KvCacheKind"/>, the bits and the other cache options.</summary>
    public KvCacheOptions KvCache { get; }

    internal SessionPool Sessions => State.Sessions;

    private LoadedState State
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _state.Value;
        }
    }

    /// <summary>Loads the model now if it is not loaded yet (idempotent, thread-safe).</summary>
    public void Load() => _ = State;

    /// <summary>A snapshot of the sessions and KV-cache memory.</summary>
    public TurboQuantEngineStatistics GetStatistics()
    {
        if (!IsLoaded)
        {
            return new TurboQuantEngineStatistics(false, 0, 0, 0, 0, 0, KvCache.Kind, 0, 0);
        }

        LoadedState s = State;
        (int live, int busy, long bytes) = s.Sessions.Snapshot();
        return new TurboQuantEngineStatistics(true, live, busy, s.Sessions.MaxSessions, bytes, s.Sessions.BytesPerToken, KvCache.Kind, s.Sessions.F16BytesPerToken, s.ContextLength)
        {
            WaitingRequests = s.Sessions.Waiting,
            CompletedRequests = Interlocked.Read(ref _completed),
            PromptTokens = Interlocked.Read(ref _promptTokens),
            CachedPromptTokens = Interlocked.Read(ref _cachedTokens),
            GeneratedTokens = Interlocked.Read(ref _generatedTokens),
            LastDecodeTokensPerSecond = Volatile.Read(ref _lastDecodeSpeed),
            ForwardPasses = s.Model.Scheduler.Steps,
            ForwardPassTokens = s.Model.Scheduler.Tokens,
        };
    }

    /// <summary>Counts an ended generation in the statistics.</summary>
    internal void Record(GenerationRun run)
    {
        Interlocked.Increment(ref _completed);
        Interlocked.Add(ref _promptTokens, run.PromptTokens);
        Interlocked.Add(ref _cachedTokens, run.CachedTokens);
        Interlocked.Add(ref _generatedTokens, run.OutputTokens);
        double seconds = run.DecodeSeconds;
        if (run.OutputTokens > 1 && seconds > 0)
        {
            Volatile.Write(ref _lastDecodeSpeed, (run.OutputTokens - 1) / seconds);
        }
    }

    /// <summary>Forgets the token histories of the idle sessions (their KV memory stays allocated for reuse).</summary>
    public void ResetIdleSessions()
    {
        if (IsLoaded)
        {
            State.Sessions.ResetIdle();
        }
    }

    /// <summary>
    /// Cancels the running generations (their streams end with <see cref="OperationCanceledException"/> or
    /// <see cref="ObjectDisposedException"/>), waits until none is inside the forward pass, then releases every
    /// session and unmaps the model. Safe to call while requests run, and more than once.
    /// </summary>
    public void Dispose()
    {
        LoadedState? loaded;
        lock (_lifecycle)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            loaded = _loaded;
        }

        if (loaded is not null)
        {
            loaded.Sessions.Dispose();
            loaded.Model.Dispose();
        }
    }

    private LoadedState LoadCore()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long fileBytes = new FileInfo(ModelPath).Length;
        TurboQuantLog.Loading(_logger, ModelId, ModelPath, fileBytes);
        long start = Stopwatch.GetTimestamp();
        Model model = Model.Load(ModelPath, new ModelOptions { Threads = Options.Threads, BatchSize = Options.BatchSize });
        try
        {
            Tokenizer tokenizer = Tokenizer.FromGguf(model.File);
            string? modelTemplate = model.File.Metadata.GetStringOrDefault("tokenizer.chat_template");
            ChatTemplate template = BuiltInChatTemplates.Resolve(modelTemplate, Options.ChatTemplate);
            ToolCallFormat format = Options.ToolCallFormat == ToolCallFormat.Auto
                ? ToolCallParser.DetectFormat(template.Source)
                : Options.ToolCallFormat;
            int context = Options.ContextSize > 0 ? Options.ContextSize : model.TrainedContextLength;
            if (model.TrainedContextLength > 0 && context > model.TrainedContextLength)
            {
                TurboQuantLog.ContextBeyondTraining(_logger, ModelId, context, model.TrainedContextLength);
            }

            if (context <= 0)
            {
                throw new InvalidOperationException($"Model '{ModelPath}' declares no context length; set TurboQuantChatOptions.ContextSize.");
            }

            var sessionOptions = new SessionOptions { ContextLength = context, BatchSize = Options.BatchSize, KvCache = KvCache.Clone() };
            var pool = new SessionPool(model, sessionOptions, Options.MaxConcurrentSessions, Options.MaxKvCacheBytes);
            double elapsedMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            string architecture = model.ArchitectureName;
            int layers = model.LayerCount, vocabulary = model.VocabularySize, threads = model.Threads, maxSessions = pool.MaxSessions;
            long bytesPerToken = pool.BytesPerToken;
            TurboQuantLog.Loaded(_logger, ModelId, architecture, layers, vocabulary, threads, (long)elapsedMs, context, format.ToString(), KvCache.Kind.ToString(), bytesPerToken, maxSessions);
            lock (_lifecycle)
            {
                if (_disposed)
                {
                    // Disposed while loading: Dispose saw nothing to free, so this load frees its own.
                    pool.Dispose();
                    throw new ObjectDisposedException(nameof(TurboQuantEngine));
                }

                return _loaded = new LoadedState(model, tokenizer, template, format, context, pool);
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The F16 or Q8_0 cache, or TurboQuant codes with the bits, sink, window, boundary-layer (Q8_0 there), pre-RoPE and
    /// QJL settings (<see cref="TurboQuantChatOptions.KvCacheKind"/>, or the kind the bits name).
    /// </summary>
    internal static KvCacheOptions CreateKvCacheOptions(TurboQuantChatOptions o)
    {
        var cache = o.EffectiveKvCacheKind switch
        {
            KvCacheKind.F16 => new KvCacheOptions { Kind = KvCacheKind.F16 },
            KvCacheKind.Q8_0 => new KvCacheOptions { Kind = KvCacheKind.Q8_0 },
            _ => new KvCacheOptions
            {
                Kind = KvCacheKind.TurboQuant,
                BitsK = o.BitsK,
                BitsV = o.BitsV,
                SinkTokens = o.SinkTokens,
                RecentWindow = o.RecentWindow,
                BoundaryLayers = o.BoundaryLayers,
                PreRopeKeys = o.PreRopeKeys,
                KeyResidualQjl = o.UseQjl,
            },
        };
        try
        {
            cache.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"The KV-cache options are not usable: {e.Message}", nameof(o), e);
        }

        return cache;
    }

    private sealed record LoadedState(Model Model, Tokenizer Tokenizer, ChatTemplate Template, ToolCallFormat ToolCallFormat, int ContextLength, SessionPool Sessions);
}
