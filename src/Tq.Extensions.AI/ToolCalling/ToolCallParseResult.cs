using System.Text;
using Microsoft.Extensions.AI;

namespace Tq.Extensions.AI.ToolCalling;

/// <summary>
/// What a tool-call parser found in (a piece of) generated text: the plain text and the calls, in the order the model
/// wrote them, and the calls it could not parse.
/// </summary>
internal sealed class ToolCallParseResult
{
    private static readonly AIContent[] s_noContents = [];
    private static readonly MalformedToolCall[] s_noErrors = [];

    internal ToolCallParseResult(IReadOnlyList<AIContent> contents, IReadOnlyList<MalformedToolCall> errors)
    {
        Contents = contents;
        Errors = errors;
    }

    /// <summary>A result with no text, no call and no error.</summary>
    public static ToolCallParseResult Empty { get; } = new(s_noContents, s_noErrors);

    /// <summary>The <see cref="TextContent"/> and <see cref="FunctionCallContent"/> items in the order they were written.</summary>
    public IReadOnlyList<AIContent> Contents { get; }

    /// <summary>The calls that could not be parsed; empty when every call was well formed.</summary>
    public IReadOnlyList<MalformedToolCall> Errors { get; }

    /// <summary>Whether any call was malformed.</summary>
    public bool HasErrors => Errors.Count > 0;

    /// <summary>The plain text outside tool calls, concatenated.</summary>
    public string Text
    {
        get
        {
            StringBuilder? sb = null;
            string? single = null;
            foreach (AIContent content in Contents)
            {
                if (content is TextContent text)
                {
                    if (single is null && sb is null)
                    {
                        single = text.Text;
                    }
                    else
                    {
                        sb ??= new StringBuilder(single);
                        sb.Append(text.Text);
                    }
                }
            }

            return sb?.ToString() ?? single ?? string.Empty;
        }
    }

    /// <summary>The well-formed calls, in order.</summary>
    public IReadOnlyList<FunctionCallContent> Calls => Contents.OfType<FunctionCallContent>().ToArray();

    internal static ToolCallParseResult Create(List<AIContent> contents, List<MalformedToolCall> errors) =>
        contents.Count == 0 && errors.Count == 0 ? Empty
            : new ToolCallParseResult(contents.Count == 0 ? s_noContents : contents.ToArray(), errors.Count == 0 ? s_noErrors : errors.ToArray());
}
