using Microsoft.Extensions.AI;

namespace Tq.SemanticKernel.Tests;

/// <summary>Records the options and messages of every call that reaches the TurboQuant client.</summary>
internal sealed class CapturingChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public List<(List<ChatMessage> Messages, ChatOptions? Options)> Calls { get; } = [];

    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        lock (Calls)
        {
            Calls.Add(([.. messages], options?.Clone()));
        }

        return base.GetResponseAsync(messages, options, cancellationToken);
    }

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        lock (Calls)
        {
            Calls.Add(([.. messages], options?.Clone()));
        }

        return base.GetStreamingResponseAsync(messages, options, cancellationToken);
    }
}
