using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Tq.SemanticKernel;

/// <summary>
/// Makes reasoning reach SK: SK's chat-client adapter copies only a response's <c>RawRepresentation</c> (as
/// <c>InnerContent</c>) and drops <see cref="TextReasoningContent"/>, so a response or update that carries reasoning and
/// has no raw representation gets itself as one; <see cref="TurboQuantChatCompletionService"/> then turns it into SK's
/// reasoning items.
/// </summary>
internal sealed class ReasoningPassthroughChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ChatResponse response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        if (response.RawRepresentation is null && response.Messages.Any(m => m.Contents.Any(c => c is TextReasoningContent)))
        {
            response.RawRepresentation = response;
        }

        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (ChatResponseUpdate update in base.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            if (update.RawRepresentation is null && update.Contents.Any(c => c is TextReasoningContent))
            {
                update.RawRepresentation = update;
            }

            yield return update;
        }
    }
}
