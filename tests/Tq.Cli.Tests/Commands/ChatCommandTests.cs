using System.Text.Json;
using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

public sealed class ChatCommandTests
{
    [Theory]
    [InlineData("4", "2", "TurboQuant K4/V2")]
    [InlineData("16", "16", "FP16")]
    public void Chat_PipedHelloStatsExit_PrintsReplyAndStats(string bitsK, string bitsV, string cacheLabel)
    {
        CliResult result = TqProcess.Run(["chat", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "--temp", "0", "-n", "32", "--bits-k", bitsK, "--bits-v", bitsV],
            "Hello\n/stats\n/exit\n");

        CliAssert.Succeeded(result);
        string[] lines = result.StdOut.Split('\n');
        Assert.DoesNotContain("> ", result.StdOut, StringComparison.Ordinal); // no prompt when stdin is piped
        Assert.False(string.IsNullOrWhiteSpace(lines[0]), result.ToString()); // the reply
        Assert.DoesNotContain("<|im_end|>", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("last answer: prompt ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith($"conversation: ", lines[2], StringComparison.Ordinal);
        Assert.Contains($"KV cache {cacheLabel} ", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("sessions: 1 live", lines[3], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("q8_0", "Q8_0")]
    [InlineData("f16", "FP16")]
    public void Chat_CacheKind_IsTheStatedCache(string kind, string cacheLabel)
    {
        CliResult result = TqProcess.Run(["chat", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "--temp", "0", "-n", "8", "--cache", kind], "Hello\n/stats\n/exit\n");

        CliAssert.Succeeded(result);
        Assert.Contains($"KV cache {cacheLabel} ", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Chat_CacheKindContradictingTheBits_ExitsOneWithOneLine()
    {
        CliResult result = TqProcess.Run(["chat", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "--cache", "tq", "--bits-k", "16", "--bits-v", "16"], "/exit\n");

        CliAssert.FailedWithOneLine(result, "16 bits is the F16 cache: set KvCacheKind to F16");
    }

    [Fact]
    public void Chat_JsonSchema_EveryAnswerMatchesTheSchema()
    {
        const string schema = """{"type":"object","properties":{"answer":{"type":"string"}}}""";
        CliResult result = TqProcess.Run(["chat", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "--temp", "0", "-n", "64", "--json-schema", schema],
            "Hello\nHow are you?\n/exit\n");

        CliAssert.Succeeded(result);
        string[] answers = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, answers.Length);
        foreach (string answer in answers)
        {
            using JsonDocument json = JsonDocument.Parse(answer);
            Assert.Equal(["answer"], json.RootElement.EnumerateObject().Select(p => p.Name));
        }
    }

    [Fact]
    public void Chat_EndOfInputWithoutExit_ExitsZero()
    {
        CliResult result = TqProcess.Run(["chat", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "--temp", "0", "-n", "8"], "/reset\n");

        CliAssert.Succeeded(result);
        Assert.Equal("(conversation reset)\n", result.StdOut);
    }
}
