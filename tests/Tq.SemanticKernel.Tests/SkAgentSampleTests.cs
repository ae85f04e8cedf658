using SkAgent;

namespace Tq.SemanticKernel.Tests;

/// <summary>The SkAgent sample, run end to end through its entry point on the real model.</summary>
public sealed class SkAgentSampleTests
{
    [Fact]
    public async Task RunAsync_Prompts_StreamsAnswersCallsToolAndReportsKvMemory()
    {
        using var output = new StringWriter();

        int exit = await SkAgentApp.RunAsync(
            ["--context", "1536", "--document-chars", "300", "--max-tokens", "64", "--prompt", "What time is it in Denver?", "--prompt", "Tell me a story."],
            TextReader.Null,
            output);

        string text = output.ToString();
        Assert.True(exit == 0, text);
        Assert.Contains("KV cache TurboQuant (K4/V2), context 1536 tokens", text, StringComparison.Ordinal);
        Assert.Contains("document addiction.txt: 300 characters in context", text, StringComparison.Ordinal);
        Assert.Contains("> What time is it in Denver?", text, StringComparison.Ordinal);
        Assert.Contains("[tool clock_get_time returned", text, StringComparison.Ordinal);
        Assert.Contains("> Tell me a story.", text, StringComparison.Ordinal);
        Assert.Equal(2, text.Split("  KV cache for ").Length - 1);
        Assert.Contains("vs FP16", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Interactive_AnswersEachLineUntilExit()
    {
        using var output = new StringWriter();
        using var input = new StringReader("Tell me a story.\n/exit\nnot asked\n");

        int exit = await SkAgentApp.RunAsync(["--context", "1536", "--document-chars", "100", "--max-tokens", "4"], input, output);

        string text = output.ToString();
        Assert.True(exit == 0, text);
        Assert.Contains("> Tell me a story.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("not asked", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Defaults_FitTheAgentNearTheTrainedContextAndSaySo()
    {
        using var output = new StringWriter();

        int exit = await SkAgentApp.RunAsync(["--max-tokens", "16", "--prompt", "What time is it in Denver?"], TextReader.Null, output);

        string text = output.ToString();
        Assert.True(exit == 0, text);
        Assert.Contains("context 1536 tokens", text, StringComparison.Ordinal); // not 4096: the least the agent's prompt needs
        Assert.Contains("note: the model was trained on 1024 tokens", text, StringComparison.Ordinal);
        Assert.Contains("document addiction.txt: 300 characters in context", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--context", "0")]
    [InlineData("--bits-k", "x")]
    [InlineData("--unknown", "1")]
    public async Task RunAsync_BadOption_PrintsUsageAndReturns2(string name, string value)
    {
        using var output = new StringWriter();

        int exit = await SkAgentApp.RunAsync([name, value], TextReader.Null, output);

        Assert.Equal(2, exit);
        Assert.Contains("Usage:", output.ToString(), StringComparison.Ordinal);
    }
}
