using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Tq.Core.Inference;
using Tq.Core.Sampling;
using Tq.Core.Tokenization;
using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI;

/// <summary>
/// The decode loop of one response on a rented session: token → UTF-8-safe text → stop sequences → reasoning block →
/// tool-call parser → contents. A malformed tool call before anything was emitted restarts the answer with another seed (bounded).
/// The forward passes run on the model's scheduler thread (batched with the other sessions' steps); this loop only
/// samples and turns tokens into contents.
/// </summary>
internal sealed class GenerationRun
{
    private const float RetryTemperature = 0.7f;

    private readonly TurboQuantEngine _engine;
    private readonly GenerationRequest _request;
    private readonly Session _session;
    private readonly Tokenizer _tokenizer;
    private readonly StreamingDecoder _decoder;
    private readonly JsonConstraint? _json;
    private readonly ToolNameConstraint? _toolName;
    private readonly long _start;
    private Sampler _sampler;
    private StopSequenceMatcher _stops;
    private StreamingToolCallParser? _parser;
    private ReasoningParser? _reasoning;
    private int _attempt;
    private int _generated;
    private int _retriedTokens;
    private int _lastToken;
    private int _cached;
    private bool _emitted;
    private bool _sawCalls;
    private bool _finished;
    private bool _truncated;
    private bool _restarted;
    private CancellationToken _cancellationToken;
    private long _prefillTicks;
    private long _firstTokenAt;
    private long _decodeStart;

    public GenerationRun(TurboQuantEngine engine, GenerationRequest request, Session session, long start)
    {
        _engine = engine;
        _request = request;
        _session = session;
        _tokenizer = engine.Tokenizer;
        _start = start;
        _decoder = _tokenizer.CreateStreamingDecoder();
        _stops = new StopSequenceMatcher(request.Stops);
        if (request.JsonMode)
        {
            _json = request.JsonSchema is { } schema ? JsonConstraint.For(_tokenizer, schema) : JsonConstraint.For(_tokenizer);
        }
        else if (request.ForcedToolNames is { } names)
        {
            _toolName = new ToolNameConstraint(_tokenizer, names);
        }

        _sampler = CreateSampler(request.Sampler);
        ResetParser();
    }

    /// <summary>False after an engine call failed mid-way (the session's state is unknown and must be discarded).</summary>
    public bool Consistent { get; private set; } = true;

    public int PromptTokens => _request.Prompt.Length;

    public int CachedTokens => _cached;

    public int OutputTokens => _generated;

    public ChatFinishReason? FinishReason { get; private set; }

    /// <summary>Seconds from the first generated token to now (0 before it).</summary>
    public double DecodeSeconds => _decodeStart == 0 ? 0 : Stopwatch.GetElapsedTime(_decodeStart).TotalSeconds;

    /// <summary>
    /// Makes the session hold the prompt, evaluating only what its history does not share (but always its last few
    /// tokens, so a repeated request gives the same logits, and with the same seed the same text, as on a fresh session).
    /// </summary>
    public async ValueTask PrefillAsync(CancellationToken cancellationToken)
    {
        _cancellationToken = cancellationToken;
        long t0 = Stopwatch.GetTimestamp();
        _cached = await GuardAsync(_session.SetHistoryAsync(_request.Prompt, cancellationToken)).ConfigureAwait(false);
        _prefillTicks += Stopwatch.GetTimestamp() - t0;
        int evaluated = _request.Prompt.Length - _cached;
        TurboQuantTelemetry.Tokens.Add(evaluated, new KeyValuePair<string, object?>("tq.token.type", "input"));
        TurboQuantTelemetry.Tokens.Add(_cached, new KeyValuePair<string, object?>("tq.token.type", "cached_input"));
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (evaluated > 0 && seconds > 0)
        {
            TurboQuantTelemetry.PrefillTokensPerSecond.Record(evaluated / seconds);
        }

        if (_request.ForcedText.Length > 0)
        {
            _ = Parse(_parser!.Append(_request.ForcedText), []);
        }
    }

    /// <summary>Generates one token and adds what it completes to <paramref name="contents"/>; false when the answer ended.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> StepAsync(List<AIContent> contents, CancellationToken cancellationToken)
    {
        if (_finished)
        {
            return false;
        }

        cancellationToken.ThrowIfCancellationRequested();
        _cancellationToken = cancellationToken;
        if (_restarted)
        {
            _restarted = false;
            await PrefillAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (_generated > 0)
        {
            await GuardAsync(_session.AppendAsync(_lastToken, cancellationToken)).ConfigureAwait(false);
        }

        // The sampling chain: the JSON or tool-name constraint (if any), then the sampler's stages.
        int token = _sampler.Sample(_session.Logits, _session.Tokens);
        _generated++;
        _lastToken = token;
        if (_firstTokenAt == 0)
        {
            _firstTokenAt = Stopwatch.GetTimestamp();
            _decodeStart = _firstTokenAt;
            TurboQuantTelemetry.TimeToFirstToken.Record(Stopwatch.GetElapsedTime(_start, _firstTokenAt).TotalSeconds);
        }

        if (_tokenizer.IsEndOfGeneration(token))
        {
            return Finish(ChatFinishReason.Stop, contents);
        }

        if (Process(_decoder.Append(token), contents))
        {
            return true;
        }

        if (_stops.Stopped || _json?.IsComplete == true)
        {
            return Finish(ChatFinishReason.Stop, contents);
        }

        return _generated < _request.MaxTokens || Finish(ChatFinishReason.Length, contents);
    }

    /// <summary>The usage of the response (exact token counts; retried attempts are counted apart).</summary>
    public UsageDetails CreateUsage()
    {
        var usage = new UsageDetails
        {
            InputTokenCount = _request.Prompt.Length,
            CachedInputTokenCount = _cached,
            OutputTokenCount = _generated,
            TotalTokenCount = _request.Prompt.Length + _generated,
            AdditionalCounts = new AdditionalPropertiesDictionary<long>
            {
                [TurboQuantChatClient.PrefillMicrosecondsCount] = (long)(_prefillTicks * 1_000_000.0 / Stopwatch.Frequency),
                [TurboQuantChatClient.DecodeMicrosecondsCount] = _decodeStart == 0 ? 0 : (long)Stopwatch.GetElapsedTime(_decodeStart).TotalMicroseconds,
            },
        };
        if (_retriedTokens > 0)
        {
            usage.AdditionalCounts[TurboQuantChatClient.RetriedOutputTokensCount] = _retriedTokens;
        }

        return usage;
    }

    /// <summary>Records the decode speed once the answer ended.</summary>
    public void RecordMetrics()
    {
        TurboQuantTelemetry.Tokens.Add(_generated, new KeyValuePair<string, object?>("tq.token.type", "output"));
        if (_generated > 1 && _decodeStart != 0)
        {
            double seconds = Stopwatch.GetElapsedTime(_decodeStart).TotalSeconds;
            if (seconds > 0)
            {
                TurboQuantTelemetry.DecodeTokensPerSecond.Record((_generated - 1) / seconds);
            }
        }
    }

    private bool Finish(ChatFinishReason reason, List<AIContent> contents)
    {
        _truncated = reason == ChatFinishReason.Length;
        if (Process(_decoder.Flush(), contents))
        {
            return true;
        }

        string rest = SplitReasoning(_stops.Flush(), contents);
        if (_reasoning is not null)
        {
            (string thought, string answer) = _reasoning.Flush();
            EmitReasoning(thought, contents);
            rest += answer;
        }

        if (_parser is null)
        {
            Emit(rest, contents);
        }
        else
        {
            ToolCallParseResult tail = _parser.Append(rest);
            if (Parse(tail, contents) || Parse(_parser.Complete(), contents))
            {
                return true;
            }
        }

        _finished = true;
        FinishReason = _sawCalls && reason == ChatFinishReason.Stop ? ChatFinishReason.ToolCalls : reason;
        return false;
    }

    /// <summary>Runs a decoded piece through the stop filter and the parser; true when the answer was restarted.</summary>
    private bool Process(string piece, List<AIContent> contents)
    {
        string text = SplitReasoning(_stops.Append(piece), contents);
        if (_parser is null)
        {
            Emit(text, contents);
            return false;
        }

        return text.Length > 0 && Parse(_parser.Append(text), contents);
    }

    private bool Parse(ToolCallParseResult result, List<AIContent> contents)
    {
        if (result.HasErrors && !_truncated && !_emitted && result.Contents.Count == 0 && _attempt < _engine.Options.MaxToolCallRetries)
        {
            // A malformed tool call before anything was emitted: generate the answer again with another seed.
            Restart();
            return true;
        }

        if (result.HasErrors)
        {
            // The token limit cut a tool call, or the model still wrote it malformed after the retries: what was
            // generated comes back as text (as llama-server does), the finish reason says why, and nothing is dropped.
            foreach (AIContent content in result.Contents)
            {
                if (content is FunctionCallContent)
                {
                    _sawCalls = true;
                    contents.Add(content);
                }
                else if (content is TextContent t)
                {
                    Emit(t.Text, contents);
                }
            }

            foreach (MalformedToolCall cut in result.Errors)
            {
                Emit(cut.RawText, contents);
            }

            return false;
        }

        foreach (AIContent content in result.Contents)
        {
            if (content is FunctionCallContent)
            {
                _sawCalls = true;
                _emitted = true;
                contents.Add(content);
            }
            else if (content is TextContent t)
            {
                Emit(t.Text, contents);
            }
        }

        return false;
    }

    /// <summary>Emits the reasoning part of <paramref name="text"/> (unless hidden) and returns the answer part.</summary>
    private string SplitReasoning(string text, List<AIContent> contents)
    {
        if (_reasoning is null || text.Length == 0)
        {
            return text;
        }

        (string thought, string answer) = _reasoning.Append(text);
        EmitReasoning(thought, contents);
        return answer;
    }

    private void EmitReasoning(string text, List<AIContent> contents)
    {
        if (_request.Reasoning != ReasoningOutput.Hide)
        {
            Emit(text, contents, reasoning: true);
        }
    }

    // Adds text to the last content when it is of the same kind (answer or reasoning), else as a new content.
    private void Emit(string text, List<AIContent> contents, bool reasoning = false)
    {
        if (text.Length == 0)
        {
            return;
        }

        _emitted = true;
        switch (contents.Count > 0 ? contents[^1] : null)
        {
            case TextReasoningContent last when reasoning:
                contents[^1] = new TextReasoningContent(last.Text + text);
                break;
            case TextContent last when !reasoning:
                contents[^1] = new TextContent(last.Text + text);
                break;
            default:
                contents.Add(reasoning ? new TextReasoningContent(text) : new TextContent(text));
                break;
        }
    }

    private void Restart()
    {
        _attempt++;
        _retriedTokens += _generated;
        _generated = 0;
        _decoder.Reset();
        _stops = new StopSequenceMatcher(_request.Stops);
        _json?.Reset();
        _toolName?.Reset();
        SamplerOptions retry = _request.Sampler.Clone();
        retry.Temperature = Math.Max(retry.Temperature, RetryTemperature);
        retry.Seed = retry.Seed is ulong seed ? seed + (ulong)_attempt : null;
        _sampler = CreateSampler(retry);
        ResetParser();

        // The next step evaluates the prompt again (the session is truncated back to it) before sampling.
        _restarted = true;
    }

    private Sampler CreateSampler(SamplerOptions options) =>
        new(options, _json is not null ? [_json] : _toolName is not null ? [_toolName] : []);

    private void ResetParser()
    {
        _parser = _request.ToolFormat == ToolCallFormat.None ? null : new StreamingToolCallParser(_request.ToolFormat);
        _reasoning = _request.Reasoning == ReasoningOutput.None ? null : new ReasoningParser(_request.StartsInReasoning);
    }

    // Awaits a scheduled evaluation; Consistent stays false if it failed mid-way (the session's state is then unknown).
    private async ValueTask<int> GuardAsync(ValueTask<int> evaluation)
    {
        Consistent = false;
        try
        {
            int result = await evaluation.ConfigureAwait(false);
            Consistent = true;
            return result;
        }
        catch (OperationCanceledException)
        {
            // The session cancels between batches: its history is still exact.
            Consistent = true;
            throw;
        }
        catch (ContextOverflowException)
        {
            Consistent = true;
            throw;
        }
    }

    private async ValueTask GuardAsync(ValueTask evaluation)
    {
        Consistent = false;
        try
        {
            await evaluation.ConfigureAwait(false);
            Consistent = true;
        }
        catch (OperationCanceledException)
        {
            Consistent = true;
            throw;
        }
    }
}
