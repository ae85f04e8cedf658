using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Tq.SemanticKernel;

/// <summary>
/// Sits between SK's function-invoking client and the TurboQuant client, so every model call of a tool loop (whose
/// messages grow with each tool result) is checked against the context window and shortened by the policy.
/// </summary>
internal sealed class ContextGuardChatClient(IChatClient innerClient, ContextWindow window) : DelegatingChatClient(innerClient)
{
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(window.Fit(messages, options), options, cancellationToken);

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IEnumerable<ChatMessage> fitted = window.Fit(messages, options);
        await foreach (ChatResponseUpdate update in base.GetStreamingResponseAsync(fitted, options, cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }
}
