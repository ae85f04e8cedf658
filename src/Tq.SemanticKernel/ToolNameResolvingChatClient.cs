using Microsoft.Extensions.AI;

namespace Tq.SemanticKernel;

/// <summary>
/// Maps a tool call that names a kernel function without its plugin prefix (<c>get_weather</c> for
/// <c>weather_get_weather</c>) to the one offered tool whose name ends with <c>_</c> + that name. Small local models
/// often drop SK's <c>plugin_function</c> prefix, which would otherwise make every call fail as "not found".
/// </summary>
/// <remarks>Exact names win; a name that several tools end with is left as written (ambiguous).</remarks>
internal sealed class ToolNameResolvingChatClient(IChatClient innerClient) : ResponseRewritingChatClient(innerClient)
{
    protected override void Rewrite(ChatResponse response, ChatOptions? options)
    {
        if (options?.Tools is { Count: > 0 } tools)
        {
            foreach (ChatMessage message in response.Messages)
            {
                Resolve(message.Contents, tools);
            }
        }
    }

    protected override void Rewrite(ChatResponseUpdate update, ChatOptions? options)
    {
        if (options?.Tools is { Count: > 0 } tools)
        {
            Resolve(update.Contents, tools);
        }
    }

    internal static void Resolve(IList<AIContent> contents, IList<AITool> tools)
    {
        for (int i = 0; i < contents.Count; i++)
        {
            if (contents[i] is FunctionCallContent call && ResolveName(call.Name, tools) is string resolved)
            {
                contents[i] = new FunctionCallContent(call.CallId, resolved, call.Arguments)
                {
                    RawRepresentation = call.RawRepresentation,
                    AdditionalProperties = call.AdditionalProperties,
                    Exception = call.Exception,
                };
            }
        }
    }

    private static string? ResolveName(string name, IList<AITool> tools)
    {
        string? match = null;
        foreach (AITool tool in tools)
        {
            if (string.Equals(tool.Name, name, StringComparison.Ordinal))
            {
                return null;
            }

            if (tool.Name.Length > name.Length + 1
                && tool.Name.EndsWith(name, StringComparison.Ordinal)
                && tool.Name[tool.Name.Length - name.Length - 1] == '_')
            {
                if (match is not null)
                {
                    return null;
                }

                match = tool.Name;
            }
        }

        return match;
    }
}
