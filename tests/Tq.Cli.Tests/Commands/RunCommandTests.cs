using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

public sealed class RunCommandTests
{
    // Greedy decoding of "Once upon a time" against llama.cpp's greedy continuation of the same model file.
    [Theory]
    [InlineData("stories260K.gguf", "stories260K")]
    [InlineData("tq-stories-5m-q8_0.gguf", "tq-stories-5m-q8_0")]
    public void Run_GreedyEightTokens_StdoutIsPromptPlusLlamaCppContinuationPrefix(string model, string reference)
    {
        GreedyReference expected = GreedyReference.Load(reference).Single(r => r.Prompt == "Once upon a time");

        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model(model), "-p", expected.Prompt, "-n", "8", "--temp", "0", "-c", "64");

        CliAssert.Succeeded(result);
        Assert.EndsWith("\n", result.StdOut, StringComparison.Ordinal);
        string generated = result.StdOut[..^1];
        Assert.StartsWith(expected.Prompt, generated, StringComparison.Ordinal);
        string continuation = generated[expected.Prompt.Length..];
        Assert.True(continuation.Length >= 8, $"8 tokens gave only '{continuation}'");
        Assert.StartsWith(continuation, expected.Text, StringComparison.Ordinal);

        // Timings go to stderr only, so stdout can be piped as text.
        Assert.DoesNotContain("tokens/s", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("tq: prefill 5 tokens", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("decode 8 tokens", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_StopString_EndsTheOutputBeforeIt()
    {
        // stories260K's greedy continuation is ", there was a little girl named Lily. ...": stop at "little".
        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model("stories260K.gguf"), "-p", "Once upon a time", "-n", "16", "--temp", "0", "--stop", "little", "-c", "64");

        CliAssert.Succeeded(result);
        Assert.Equal("Once upon a time, there was a \n", result.StdOut);
    }

    [Fact]
    public void Run_PromptLongerThanContext_ExitsOneWithOneLine()
    {
        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model("stories260K.gguf"), "-p", "Once upon a time", "-n", "8", "-c", "4");

        CliAssert.FailedWithOneLine(result, "context window of 4 tokens");
        Assert.Empty(result.StdOut);
    }
}
