using Microsoft.Extensions.AI;
using Tq.Extensions.AI;
using Tq.Testing;

namespace Tq.SemanticKernel.Tests;

/// <summary>The real tq-chat-5m model and small helpers shared by the tests.</summary>
internal static class SkModels
{
    public const string Q8 = "tq-chat-5m-q8_0.gguf";

    public static void Configure(TurboQuantChatOptions options, float bitsK = 4, float bitsV = 2, int context = 1024)
    {
        options.ModelPath = TestPaths.Model(Q8);
        options.Threads = 2;
        options.ContextSize = context;
        options.BitsK = bitsK;
        options.BitsV = bitsV;
        options.MaxConcurrentSessions = 2;
    }

    public static TurboQuantEngine CreateEngine(float bitsK = 4, float bitsV = 2, int context = 1024)
    {
        var options = new TurboQuantChatOptions();
        Configure(options, bitsK, bitsV, context);
        return new TurboQuantEngine(options);
    }
}
