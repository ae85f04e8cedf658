using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Tq.Extensions.AI.ToolCalling;

/// <summary>
/// The system-prompt instructions of the <see cref="ToolCallFormat.Prompt"/> fallback, for models whose chat template
/// has no tool syntax: the tools are listed as JSON and the model is asked to answer with fenced
/// <c>```tool_call</c> blocks, which <see cref="StreamingToolCallParser"/> recognises.
/// </summary>
internal static class ToolCallPrompt
{
    /// <summary>Builds the instructions that describe <paramref name="tools"/> and the call syntax.</summary>
    /// <param name="tools">The tools offered to the model; only function declarations are described.</param>
    /// <returns>Text to append to the system prompt; empty when there is no function declaration.</returns>
    public static string CreateInstructions(IEnumerable<AITool> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var sb = new StringBuilder();
        foreach (AIFunctionDeclaration function in tools.OfType<AIFunctionDeclaration>())
        {
            if (sb.Length == 0)
            {
                sb.Append("# Tools\n\nYou can call these functions (JSON Schema of each function's parameters):\n");
            }

            var declaration = new JsonObject
            {
                ["name"] = function.Name,
                ["description"] = function.Description,
                ["parameters"] = JsonNode.Parse(function.JsonSchema.GetRawText()),
            };
            sb.Append(declaration.ToJsonString()).Append('\n');
        }

        if (sb.Length == 0)
        {
            return string.Empty;
        }

        sb.Append("\nTo call a function, reply with a block like this and nothing else in the block:\n")
          .Append("```tool_call\n{\"name\": \"<function name>\", \"arguments\": {<the arguments as a JSON object>}}\n```\n")
          .Append("Write one block per call. The results come back in the next message; then answer the user.");
        return sb.ToString();
    }
}
