using Tq.Testing;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>Clients over the real tq-chat-5m model.</summary>
internal static class ChatModels
{
    public const string F16 = "tq-chat-5m-f16.gguf";

    public static TurboQuantChatClient CreateClient(Action<TurboQuantChatOptions>? configure = null, string model = F16)
    {
        var options = new TurboQuantChatOptions { ModelPath = TestPaths.Model(model), Threads = 1, ContextSize = 1024, BitsK = 16, BitsV = 16 };
        configure?.Invoke(options);
        return new TurboQuantChatClient(options);
    }
}
