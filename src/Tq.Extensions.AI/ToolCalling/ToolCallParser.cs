namespace Tq.Extensions.AI.ToolCalling;

/// <summary>Parses a model's complete output into text and tool calls, and picks the tool-call syntax of a chat template.</summary>
internal static class ToolCallParser
{
    /// <summary>Separates the tool calls from the plain text of a complete output.</summary>
    /// <param name="text">The generated text, with special tokens such as <c>&lt;tool_call&gt;</c> rendered as text.</param>
    /// <param name="format">The model's tool-call syntax (not <see cref="ToolCallFormat.Auto"/>).</param>
    /// <returns>The text and calls in order, and the calls that were malformed; never throws on any text.</returns>
    /// <exception cref="ArgumentException"><paramref name="format"/> is <see cref="ToolCallFormat.Auto"/> or undefined.</exception>
    public static ToolCallParseResult Parse(string text, ToolCallFormat format)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new StreamingToolCallParser(format);
        ToolCallParseResult head = parser.Append(text);
        ToolCallParseResult tail = parser.Complete();
        if (tail.Contents.Count == 0 && tail.Errors.Count == 0)
        {
            return head;
        }

        if (head.Contents.Count == 0 && head.Errors.Count == 0)
        {
            return tail;
        }

        var contents = new List<Microsoft.Extensions.AI.AIContent>(head.Contents);
        foreach (Microsoft.Extensions.AI.AIContent content in tail.Contents)
        {
            if (content is Microsoft.Extensions.AI.TextContent t && contents.Count > 0 && contents[^1] is Microsoft.Extensions.AI.TextContent last)
            {
                contents[^1] = new Microsoft.Extensions.AI.TextContent(last.Text + t.Text);
            }
            else
            {
                contents.Add(content);
            }
        }

        return ToolCallParseResult.Create(contents, [.. head.Errors, .. tail.Errors]);
    }

    /// <summary>
    /// The tool-call syntax a chat template teaches: <c>&lt;tool_call&gt;</c> → <see cref="ToolCallFormat.Hermes"/>,
    /// <c>[TOOL_CALLS]</c> → <see cref="ToolCallFormat.Mistral"/>, Llama 3 headers with <c>&lt;|python_tag|&gt;</c> or an
    /// <c>ipython</c> role → <see cref="ToolCallFormat.Llama3"/>, anything else (or no template) → <see cref="ToolCallFormat.Prompt"/>.
    /// </summary>
    /// <param name="chatTemplate">The Jinja text of <c>tokenizer.chat_template</c>, or null.</param>
    public static ToolCallFormat DetectFormat(string? chatTemplate)
    {
        if (string.IsNullOrEmpty(chatTemplate))
        {
            return ToolCallFormat.Prompt;
        }

        if (chatTemplate.Contains("<tool_call>", StringComparison.Ordinal))
        {
            return ToolCallFormat.Hermes;
        }

        if (chatTemplate.Contains("[TOOL_CALLS]", StringComparison.Ordinal))
        {
            return ToolCallFormat.Mistral;
        }

        if (chatTemplate.Contains("<|start_header_id|>", StringComparison.Ordinal)
            && (chatTemplate.Contains("<|python_tag|>", StringComparison.Ordinal) || chatTemplate.Contains("ipython", StringComparison.Ordinal)))
        {
            return ToolCallFormat.Llama3;
        }

        return ToolCallFormat.Prompt;
    }
}
