using Microsoft.Extensions.AI;

namespace TqConnector.Samples.WebApi;

/// <summary>The body of <c>/api/chat</c>: a message and, optionally, the earlier turns.</summary>
/// <param name="Message">The user's message.</param>
/// <param name="System">An optional system prompt.</param>
/// <param name="History">Earlier turns as (role, text) pairs.</param>
internal sealed record SampleChatRequest(string? Message, string? System = null, IReadOnlyList<SampleChatTurn>? History = null)
{
    /// <summary>What is wrong with the request, or null when it can be answered.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Message))
        {
            return "'message' is required and must not be empty.";
        }

        foreach (SampleChatTurn? turn in History ?? [])
        {
            if (turn is null || turn.Role is not ("user" or "assistant" or "system") || turn.Text is null)
            {
                return "Every 'history' turn needs a 'role' (user, assistant or system) and a 'text'.";
            }
        }

        return null;
    }

    public List<ChatMessage> ToMessages()
    {
        List<ChatMessage> messages = [];
        if (!string.IsNullOrEmpty(System))
        {
            messages.Add(new ChatMessage(ChatRole.System, System));
        }

        foreach (SampleChatTurn turn in History ?? [])
        {
            messages.Add(new ChatMessage(new ChatRole(turn.Role!), turn.Text));
        }

        messages.Add(new ChatMessage(ChatRole.User, Message!));
        return messages;
    }
}
