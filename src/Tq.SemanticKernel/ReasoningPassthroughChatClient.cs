using Microsoft.Extensions.AI;

namespace Tq.SemanticKernel;

/// <summary>
/// Makes reasoning reach SK: SK's chat-client adapter copies only a response's <c>RawRepresentation</c> (as
/// <c>InnerContent</c>) and drops <see cref="TextReasoningContent"/>, so a response or update that carries reasoning and
/// has no raw representation gets itself as one; <see cref="TurboQuantChatCompletionService"/> then turns it into SK's
/// reasoning items.
/// </summary>
internal sealed class ReasoningPassthroughChatClient(IChatClient inner) : ResponseRewritingChatClient(inner)
{
    protected override void Rewrite(ChatResponse response, ChatOptions? options)
    {
        if (response.RawRepresentation is null && response.Messages.Any(m => m.Contents.Any(c => c is TextReasoningContent)))
        {
            response.RawRepresentation = response;
        }
    }

    protected override void Rewrite(ChatResponseUpdate update, ChatOptions? options)
    {
        if (update.RawRepresentation is null && update.Contents.Any(c => c is TextReasoningContent))
        {
            update.RawRepresentation = update;
        }
    }
}
