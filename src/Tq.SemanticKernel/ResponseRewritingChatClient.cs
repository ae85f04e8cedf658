using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Tq.SemanticKernel;

/// <summary>
/// A delegating client that changes what the inner client returns, response by response and update by update, in
/// place: the one piece of plumbing under the SK pipeline's small fix-ups (<see cref="ReasoningPassthroughChatClient"/>,
/// <see cref="ToolNameResolvingChatClient"/>).
/// </summary>
internal abstract class ResponseRewritingChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public sealed override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ChatResponse response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        Rewrite(response, options);
        return response;
    }

    public sealed override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (ChatResponseUpdate update in base.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            Rewrite(update, options);
            yield return update;
        }
    }

    /// <summary>Changes a whole response of a request made with <paramref name="options"/>.</summary>
    protected abstract void Rewrite(ChatResponse response, ChatOptions? options);

    /// <summary>Changes one streamed update of a request made with <paramref name="options"/>.</summary>
    protected abstract void Rewrite(ChatResponseUpdate update, ChatOptions? options);
}
