using Tq.Cli.Commands;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary><c>tq chat</c> driven through piped input, as a script or test would.</summary>
public sealed class ChatCommandTests
{
    [Fact]
    public async Task RunAsync_PipedConversation_AnswersResetsAndReportsStats()
    {
        var options = new TurboQuantChatOptions { ModelPath = TestPaths.Model(ChatModels.F16), BitsK = 16, BitsV = 16, Temperature = 0, MaxOutputTokens = 40, Threads = 2, ContextSize = 1024 };
        var input = new StringReader("Hello! Who are you?\nWhat is my name?\n/stats\n/reset\n/stats\n/exit\nnever read\n");
        var output = new StringWriter();

        int exit = await ChatCommand.RunAsync(options, "You are a helpful assistant.", input, output, CancellationToken.None);

        string[] lines = output.ToString().Split('\n');
        Assert.Equal(0, exit);
        Assert.Equal("I am a small helpful assistant.", lines[0]);
        Assert.StartsWith("last answer: prompt ", lines[2], StringComparison.Ordinal);
        Assert.Contains("reused from the cache", lines[2], StringComparison.Ordinal);
        Assert.Contains("KV cache FP16 3072 bytes/token", lines[3], StringComparison.Ordinal);
        Assert.Contains("(conversation reset)", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("never read", output.ToString(), StringComparison.Ordinal);
    }
}
