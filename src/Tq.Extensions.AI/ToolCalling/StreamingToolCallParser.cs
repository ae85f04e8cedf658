using System.Buffers;
using System.Text;
using Microsoft.Extensions.AI;

namespace Tq.Extensions.AI.ToolCalling;

/// <summary>
/// Separates tool calls from plain text while the model's output is decoded piece by piece. Plain text is passed
/// through at once, except a tail that may be the start of a tool-call opener (a partial <c>&lt;tool_</c>), which is
/// held until the next piece decides; a call is emitted when it is complete. <see cref="Complete"/> flushes the end of
/// the output and reports an unterminated call as malformed. Feeding the same text in any split gives the same
/// sequence of text and calls as <see cref="ToolCallParser.Parse(string, ToolCallFormat)"/>.
/// </summary>
/// <remarks>One instance parses one response; it is not thread-safe.</remarks>
internal sealed class StreamingToolCallParser
{
    private const string HermesOpener = "<tool_call>";
    private const string HermesCloser = "</tool_call>";
    private const string MistralOpener = "[TOOL_CALLS]";
    private const string PythonTagOpener = "<|python_tag|>";
    private const string FenceOpener = "```tool_call";
    private const string Fence = "```";

    private static readonly SearchValues<char> s_openerStarts = SearchValues.Create("<[`");

    private readonly StringBuilder _buffer = new();
    private readonly List<AIContent> _contents = [];
    private readonly List<MalformedToolCall> _errors = [];
    private readonly List<FunctionCallContent> _calls = [];
    private readonly string[] _openers;
    private CallKind _kind;
    private bool _atStart = true;
    private bool _afterCall;
    private bool _completed;

    /// <summary>Creates a parser for one response.</summary>
    /// <param name="format">The model's tool-call syntax; <see cref="ToolCallFormat.Auto"/> is not accepted here (detect it first).</param>
    /// <exception cref="ArgumentException"><paramref name="format"/> is <see cref="ToolCallFormat.Auto"/> or not a defined value.</exception>
    public StreamingToolCallParser(ToolCallFormat format)
    {
        if (format == ToolCallFormat.Auto || !Enum.IsDefined(format))
        {
            throw new ArgumentException($"The tool-call format must be a concrete format, not {format}; use ToolCallParser.DetectFormat for Auto.", nameof(format));
        }

        Format = format;
        _openers = format switch
        {
            ToolCallFormat.Hermes => [HermesOpener],
            ToolCallFormat.Mistral => [MistralOpener],
            ToolCallFormat.Llama3 => [PythonTagOpener],
            ToolCallFormat.Prompt => [FenceOpener],
            _ => [],
        };
    }

    private enum CallKind
    {
        None,
        Hermes,
        Mistral,
        PythonTag,
        BareJson,
        Fenced,
    }

    /// <summary>The syntax this parser recognises.</summary>
    public ToolCallFormat Format { get; }

    /// <summary>Adds the next decoded piece of text and returns what can be emitted now.</summary>
    /// <param name="piece">The decoded text; may be empty.</param>
    /// <returns>The text that is certainly not part of a call, and the calls completed by this piece.</returns>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was already called.</exception>
    public ToolCallParseResult Append(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        ThrowIfCompleted();
        if (piece.Length == 0)
        {
            return ToolCallParseResult.Empty;
        }

        // Most pieces are plain text with nothing held: pass them through without copying the buffer.
        if (_kind == CallKind.None && _buffer.Length == 0 && !(_atStart && Format == ToolCallFormat.Llama3) && piece.AsSpan().IndexOfAny(s_openerStarts) < 0)
        {
            return new ToolCallParseResult([new TextContent(piece)], []);
        }

        _buffer.Append(piece);
        return Drain(final: false);
    }

    /// <summary>Ends the output: emits the held text and reports a call left open as malformed.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was already called.</exception>
    public ToolCallParseResult Complete()
    {
        ThrowIfCompleted();
        _completed = true;
        return Drain(final: true);
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("The output was already completed; use a new parser for the next response.");
        }
    }

    private ToolCallParseResult Drain(bool final)
    {
        _contents.Clear();
        _errors.Clear();
        string text = _buffer.ToString();
        int pos = 0;
        while (true)
        {
            if (_kind == CallKind.None)
            {
                if (!ScanText(text, ref pos, final))
                {
                    break;
                }
            }
            else if (!ScanCall(text, ref pos, final))
            {
                break;
            }
        }

        _buffer.Clear().Append(text, pos, text.Length - pos);
        return ToolCallParseResult.Create(_contents, _errors);
    }

    /// <summary>Emits plain text up to the next opener; returns true when a call starts at <paramref name="pos"/>.</summary>
    private bool ScanText(string text, ref int pos, bool final)
    {
        if (Format == ToolCallFormat.None)
        {
            EmitText(text, pos, text.Length);
            pos = text.Length;
            return false;
        }

        if (Format == ToolCallFormat.Llama3 && _atStart)
        {
            // Llama 3 writes a call as a bare JSON object that starts the answer (after a call: `;` separates calls).
            int i = pos;
            while (i < text.Length && (char.IsWhiteSpace(text[i]) || (_afterCall && text[i] == ';')))
            {
                i++;
            }

            if (i == text.Length)
            {
                if (final)
                {
                    EmitText(text, pos, text.Length);
                    pos = text.Length;
                }

                return false;
            }

            if (text[i] == '{')
            {
                switch (StartsCallObject(text, i))
                {
                    case true:
                        if (!_afterCall)
                        {
                            EmitText(text, pos, i);
                        }

                        pos = i;
                        _kind = CallKind.BareJson;
                        _atStart = false;
                        return true;
                    case null when !final:
                        return false;
                }
            }

            _atStart = false;
            if (_afterCall)
            {
                pos = i;
            }
        }

        int openerAt = -1;
        string? opener = null;
        foreach (string candidate in _openers)
        {
            int at = text.IndexOf(candidate, pos, StringComparison.Ordinal);
            if (at >= 0 && (openerAt < 0 || at < openerAt))
            {
                openerAt = at;
                opener = candidate;
            }
        }

        if (opener is not null)
        {
            EmitText(text, pos, openerAt);
            pos = openerAt + opener.Length;
            _kind = opener switch
            {
                HermesOpener => CallKind.Hermes,
                MistralOpener => CallKind.Mistral,
                PythonTagOpener => CallKind.PythonTag,
                _ => CallKind.Fenced,
            };
            return true;
        }

        int hold = final ? 0 : HeldTailLength(text, pos);
        EmitText(text, pos, text.Length - hold);
        pos = text.Length - hold;
        return false;
    }

    /// <summary>Parses the call that starts at <paramref name="pos"/>; returns true when it ended (well formed or not).</summary>
    private bool ScanCall(string text, ref int pos, bool final)
    {
        _calls.Clear();
        CallKind kind = _kind;
        int end;
        string? error;
        switch (kind)
        {
            case CallKind.Hermes:
            {
                int close = text.IndexOf(HermesCloser, pos, StringComparison.Ordinal);
                if (close < 0)
                {
                    return Unfinished(text, ref pos, final, "the <tool_call> element is not closed");
                }

                string body = text[pos..close];
                error = body.TrimStart().StartsWith("<function=", StringComparison.Ordinal)
                    ? ToolCallJson.ParseXmlFunction(body, _calls)
                    : ParseJsonBody(body);
                end = close + HermesCloser.Length;
                break;
            }

            case CallKind.Fenced:
            {
                int close = text.IndexOf(Fence, pos, StringComparison.Ordinal);
                if (close < 0)
                {
                    return Unfinished(text, ref pos, final, "the ```tool_call block is not closed");
                }

                error = ParseJsonBody(text[pos..close]);
                end = close + Fence.Length;
                break;
            }

            case CallKind.BareJson:
            {
                end = ToolCallJson.ScanValue(text, pos);
                if (end < 0)
                {
                    return Unfinished(text, ref pos, final, "the tool-call JSON object is not closed");
                }

                error = ToolCallJson.ParseCalls(text[pos..end], _calls);
                break;
            }

            case CallKind.PythonTag:
            {
                int start = SkipWhiteSpace(text, pos);
                if (start < text.Length && text[start] == '{')
                {
                    end = ToolCallJson.ScanValue(text, start);
                    if (end < 0)
                    {
                        return Unfinished(text, ref pos, final, "the tool-call JSON object after <|python_tag|> is not closed");
                    }

                    error = ToolCallJson.ParseCalls(text[start..end], _calls);
                }
                else
                {
                    // Code after <|python_tag|> runs to the end of the message (<|eom_id|> stops generation).
                    if (!final || start == text.Length)
                    {
                        return Unfinished(text, ref pos, final, "<|python_tag|> is followed by nothing");
                    }

                    string code = text[start..].TrimEnd();
                    if (!ToolCallJson.TryParseBuiltinCall(code, _calls))
                    {
                        _calls.Add(new FunctionCallContent(ToolCallJson.CreateCallId(), "python", new Dictionary<string, object?>(StringComparer.Ordinal) { ["code"] = code }));
                    }

                    error = null;
                    end = text.Length;
                }

                break;
            }

            default:
                if (!TryScanMistral(text, pos, final, out end, out error))
                {
                    return Unfinished(text, ref pos, final, "the [TOOL_CALLS] call is not complete");
                }

                break;
        }

        if (error is null)
        {
            _contents.AddRange(_calls);
        }
        else
        {
            _errors.Add(new MalformedToolCall(Opener(kind) + text[pos..end], error));
        }

        pos = end;
        _kind = CallKind.None;
        _afterCall = true;
        _atStart = kind == CallKind.BareJson || (kind == CallKind.PythonTag && error is null);
        return true;
    }

    private bool TryScanMistral(string text, int pos, bool final, out int end, out string? error)
    {
        const string Args = "[ARGS]";
        const string CallId = "[CALL_ID]";
        end = -1;
        error = null;
        int start = SkipWhiteSpace(text, pos);
        if (start == text.Length)
        {
            return false;
        }

        if (text[start] == '[')
        {
            end = ToolCallJson.ScanValue(text, start);
            if (end < 0)
            {
                return false;
            }

            error = ToolCallJson.ParseCalls(text[start..end], _calls);
            return true;
        }

        // A name cannot hold a newline or a brace: [ARGS] must come before the first one, which decides without
        // waiting for the rest of the output (and gives the same answer however the text is split).
        int bad = text.AsSpan(start).IndexOfAny("\n{");
        int searchEnd = bad < 0 ? text.Length : start + bad;
        int args = text.IndexOf(Args, start, searchEnd - start, StringComparison.Ordinal);
        if (args < 0)
        {
            if (bad >= 0)
            {
                end = searchEnd;
                error = "expected [ARGS] after the function name in [TOOL_CALLS]name[ARGS]{...}";
                return true;
            }

            return false;
        }

        int argsStart = SkipWhiteSpace(text, args + Args.Length);
        end = ToolCallJson.ScanValue(text, argsStart);
        if (end == -1)
        {
            return false;
        }

        string name = text[start..args];
        string? id = null;
        int callId = name.IndexOf(CallId, StringComparison.Ordinal);
        if (callId >= 0)
        {
            id = name[(callId + CallId.Length)..].Trim();
            name = name[..callId];
        }

        if (end == -2)
        {
            end = argsStart;
            error = "expected a JSON object after [ARGS]";
            return true;
        }

        error = ToolCallJson.ParseArguments(name.Trim(), id, text[argsStart..end], _calls);
        return true;
    }

    private string? ParseJsonBody(string body)
    {
        string trimmed = body.Trim();
        if (trimmed.Length == 0)
        {
            return "the tool call is empty";
        }

        int end = ToolCallJson.ScanValue(trimmed, 0);
        return end == trimmed.Length || end < 0
            ? ToolCallJson.ParseCalls(trimmed, _calls)
            : $"unexpected text after the tool-call JSON: '{trimmed[end..]}'";
    }

    private bool Unfinished(string text, ref int pos, bool final, string message)
    {
        if (!final)
        {
            return false;
        }

        _errors.Add(new MalformedToolCall(Opener(_kind) + text[pos..], message + " at the end of the output"));
        pos = text.Length;
        _kind = CallKind.None;
        return false;
    }

    private static string Opener(CallKind kind) => kind switch
    {
        CallKind.Hermes => HermesOpener,
        CallKind.Mistral => MistralOpener,
        CallKind.PythonTag => PythonTagOpener,
        CallKind.Fenced => FenceOpener,
        _ => string.Empty,
    };

    /// <summary>
    /// Llama 3: whether the object at <paramref name="brace"/> is a call (its first key is <c>name</c>, <c>type</c> or
    /// <c>function</c>); null while the text does not say yet.
    /// </summary>
    private static bool? StartsCallObject(string text, int brace)
    {
        int i = SkipWhiteSpace(text, brace + 1);
        if (i == text.Length)
        {
            return null;
        }

        if (text[i] != '"')
        {
            return false;
        }

        int close = text.IndexOf('"', i + 1);
        if (close < 0)
        {
            ReadOnlySpan<char> partial = text.AsSpan(i + 1);
            return "name".AsSpan().StartsWith(partial) || "type".AsSpan().StartsWith(partial) || "function".AsSpan().StartsWith(partial) ? null : false;
        }

        return text.AsSpan(i + 1, close - i - 1) is "name" or "type" or "function";
    }

    /// <summary>The length of the longest tail of the text that is a proper prefix of an opener.</summary>
    private int HeldTailLength(string text, int pos)
    {
        int held = 0;
        foreach (string opener in _openers)
        {
            for (int n = Math.Min(opener.Length - 1, text.Length - pos); n > held; n--)
            {
                if (text.AsSpan(text.Length - n).SequenceEqual(opener.AsSpan(0, n)))
                {
                    held = n;
                    break;
                }
            }
        }

        return held;
    }

    private static int SkipWhiteSpace(string text, int pos)
    {
        while (pos < text.Length && char.IsWhiteSpace(text[pos]))
        {
            pos++;
        }

        return pos;
    }

    private void EmitText(string text, int start, int end)
    {
        if (end <= start)
        {
            return;
        }

        string piece = text[start..end];
        if (_contents.Count > 0 && _contents[^1] is TextContent last)
        {
            _contents[^1] = new TextContent(last.Text + piece);
        }
        else
        {
            _contents.Add(new TextContent(piece));
        }
    }
}
