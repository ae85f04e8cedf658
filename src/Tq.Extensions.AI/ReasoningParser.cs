using System.Text;

namespace Tq.Extensions.AI;

/// <summary>
/// Splits the streamed output of a reasoning model into its <c>&lt;think&gt;…&lt;/think&gt;</c> block and the answer
/// (Qwen3, DeepSeek-R1 distills): the block may open the output, or the prompt may already have opened it (the R1
/// templates end the generation prompt with <c>&lt;think&gt;\n</c>). Only a block at the start counts; text after it is
/// the answer, with the blank lines that follow <c>&lt;/think&gt;</c> removed. A possible tag split across tokens is
/// held back until the next piece decides it, so nothing of a tag ever reaches either side.
/// </summary>
internal sealed class ReasoningParser
{
    private const string Open = "<think>";
    private const string Close = "</think>";

    private State _state;
    private string _held = string.Empty;

    /// <param name="startsInReasoning">The prompt ends inside an opened block.</param>
    public ReasoningParser(bool startsInReasoning) => _state = startsInReasoning ? State.ReasoningStart : State.Start;

    private enum State
    {
        /// <summary>Nothing decided yet: leading whitespace, then either the opening tag or the answer.</summary>
        Start,

        /// <summary>Just inside the block: its leading whitespace is dropped.</summary>
        ReasoningStart,
        Reasoning,

        /// <summary>Just after the block: the answer's leading whitespace is dropped.</summary>
        AfterReasoning,
        Answer,
    }

    /// <summary>True when <paramref name="templateSource"/> is a reasoning model's chat template (it knows <c>&lt;/think&gt;</c>).</summary>
    public static bool IsReasoningTemplate(string templateSource) => templateSource.Contains(Close, StringComparison.Ordinal);

    /// <summary>True when a rendered prompt ends inside an opened <c>&lt;think&gt;</c> block.</summary>
    public static bool EndsInReasoning(string prompt) => prompt.AsSpan().TrimEnd().EndsWith(Open, StringComparison.Ordinal);

    /// <summary>Adds a piece of output; returns the reasoning text and the answer text it completes.</summary>
    public (string Reasoning, string Answer) Append(string piece)
    {
        string text = _held + piece;
        _held = string.Empty;
        var reasoning = new StringBuilder();
        while (true)
        {
            switch (_state)
            {
                case State.Start:
                {
                    string trimmed = text.TrimStart();
                    if (trimmed.StartsWith(Open, StringComparison.Ordinal))
                    {
                        text = trimmed[Open.Length..];
                        _state = State.ReasoningStart;
                        continue;
                    }

                    if (Open.StartsWith(trimmed, StringComparison.Ordinal))
                    {
                        _held = text; // whitespace, or a possible start of the tag
                        return (reasoning.ToString(), string.Empty);
                    }

                    _state = State.Answer;
                    return (reasoning.ToString(), text);
                }

                case State.ReasoningStart:
                    text = text.TrimStart();
                    if (text.Length == 0)
                    {
                        return (reasoning.ToString(), string.Empty);
                    }

                    _state = State.Reasoning;
                    continue;

                case State.Reasoning:
                {
                    int close = text.IndexOf(Close, StringComparison.Ordinal);
                    if (close >= 0)
                    {
                        reasoning.Append(text.AsSpan(0, close).TrimEnd());
                        text = text[(close + Close.Length)..];
                        _state = State.AfterReasoning;
                        continue;
                    }

                    // Hold back a possible start of the closing tag and trailing whitespace (which would precede it).
                    int keep = PartialTagLength(text, Close);
                    int end = text.Length - keep;
                    while (end > 0 && char.IsWhiteSpace(text[end - 1]))
                    {
                        end--;
                    }

                    reasoning.Append(text.AsSpan(0, end));
                    _held = text[end..];
                    return (reasoning.ToString(), string.Empty);
                }

                case State.AfterReasoning:
                    text = text.TrimStart();
                    if (text.Length == 0)
                    {
                        return (reasoning.ToString(), string.Empty);
                    }

                    _state = State.Answer;
                    return (reasoning.ToString(), text);

                default:
                    return (reasoning.ToString(), text);
            }
        }
    }

    /// <summary>Ends the output: what was held back goes to the side it was on.</summary>
    public (string Reasoning, string Answer) Flush()
    {
        string held = _held;
        _held = string.Empty;
        return _state switch
        {
            State.Start => (string.Empty, held),
            State.ReasoningStart or State.Reasoning => (held.TrimEnd(), string.Empty),
            _ => (string.Empty, string.Empty),
        };
    }

    /// <summary>The length of the longest suffix of <paramref name="text"/> that starts <paramref name="tag"/>.</summary>
    private static int PartialTagLength(string text, string tag)
    {
        for (int length = Math.Min(tag.Length - 1, text.Length); length > 0; length--)
        {
            if (text.AsSpan(text.Length - length).SequenceEqual(tag.AsSpan(0, length)))
            {
                return length;
            }
        }

        return 0;
    }
}
