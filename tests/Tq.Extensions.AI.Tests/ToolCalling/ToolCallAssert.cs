using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI.Tests.ToolCalling;

/// <summary>Renders parse results as comparable strings (call ids left out: they may be invented).</summary>
internal static class ToolCallAssert
{
    public static string Describe(IEnumerable<ToolCallParseResult> results)
    {
        // Text split over several updates is joined, so any split of the same output describes the same way; errors
        // are listed last (a result keeps them apart from the contents).
        var sb = new StringBuilder();
        var text = new StringBuilder();
        var errors = new StringBuilder();
        foreach (ToolCallParseResult result in results)
        {
            foreach (AIContent content in result.Contents)
            {
                if (content is TextContent t)
                {
                    text.Append(t.Text);
                    continue;
                }

                FlushText(sb, text);
                var call = (FunctionCallContent)content;
                sb.Append("C:").Append(call.Name).Append(Arguments(call)).Append('\n');
            }

            foreach (MalformedToolCall error in result.Errors)
            {
                errors.Append("E:").Append(error.RawText).Append('\n');
            }
        }

        FlushText(sb, text);
        return sb.Append(errors).ToString();
    }

    public static string Arguments(FunctionCallContent call) =>
        JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>());

    /// <summary>Canonical compact JSON of a JSON text, for comparing argument objects.</summary>
    public static string Canonical(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);

    public static IEnumerable<ToolCallParseResult> Stream(ToolCallFormat format, IEnumerable<string> pieces)
    {
        var parser = new StreamingToolCallParser(format);
        var results = new List<ToolCallParseResult>();
        foreach (string piece in pieces)
        {
            results.Add(parser.Append(piece));
        }

        results.Add(parser.Complete());
        return results;
    }

    private static void FlushText(StringBuilder sb, StringBuilder text)
    {
        if (text.Length > 0)
        {
            sb.Append("T:").Append(text).Append('\n');
            text.Clear();
        }
    }
}
