using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

public sealed class InfoCommandTests
{
    [Fact]
    public void Info_NoModel_PrintsMachineFactsOnStdout()
    {
        CliResult result = TqProcess.Run("info");

        CliAssert.Succeeded(result);
        Assert.StartsWith("tq ", result.StdOut, StringComparison.Ordinal);
        Assert.Contains($"cores        {Environment.ProcessorCount}\n", result.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"Vector256    (accelerated|not accelerated)", result.StdOut);
        Assert.Contains("AVX2 ", result.StdOut, StringComparison.Ordinal);
        Assert.Empty(result.StdErr);
    }

    // F16 KV bytes per token = 2 (K and V) x layers x KV heads x head dim x 2 bytes, from the models' README shapes.
    [Theory]
    [InlineData("stories260K.gguf", "shape        embedding 64, layers 5, heads 8, KV heads 4, head dim 8, FFN 172, vocab 512", 2 * 5 * 4 * 8 * 2, "chat template no")]
    [InlineData("tq-stories-5m-q8_0.gguf", "shape        embedding 256, layers 6, heads 4, KV heads 2, head dim 64, FFN 768, vocab 512", 2 * 6 * 2 * 64 * 2, "chat template no")]
    [InlineData("tq-chat-5m-q8_0.gguf", "shape        embedding 256, layers 6, heads 4, KV heads 2, head dim 64, FFN 768, vocab 518", 2 * 6 * 2 * 64 * 2, "chat template yes")]
    public void Info_Model_PrintsArchitectureShapeAndKvMemory(string model, string shapeLine, int f16BytesPerToken, string templateLine)
    {
        CliResult result = TqProcess.Run("info", TestPaths.Model(model));

        CliAssert.Succeeded(result);
        string[] lines = result.StdOut.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("architecture llama", StringComparison.Ordinal));
        Assert.Contains(shapeLine, lines);
        Assert.Contains(lines, l => l.StartsWith(templateLine, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("KV cache     per 1,000 tokens", StringComparison.Ordinal));
        string f16 = Assert.Single(lines, l => l.StartsWith("  F16 ", StringComparison.Ordinal));
        Assert.Contains("(1.00x)", f16, StringComparison.Ordinal);
        Assert.EndsWith($", {f16BytesPerToken} B/token past the sinks", f16, StringComparison.Ordinal);

        // Every compressed setting stores fewer bytes per token than F16.
        string tq = Assert.Single(lines, l => l.StartsWith("  TQ K4/V2 (default) ", StringComparison.Ordinal));
        int tqBytes = int.Parse(System.Text.RegularExpressions.Regex.Match(tq, @", (\d+) B/token").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(tqBytes, 1, f16BytesPerToken - 1);
        Assert.Empty(result.StdErr);
    }

    // Facts of the synthetic files from ../shared/models/arch/README.md: gemma3 has 6 layers, 5 sliding (window 64) to 1
    // global; 2 KV heads of 64, so the F16 cache grows by 2 x 1 x 2 x 64 x 2 = 512 B per token (the global layer only).
    [Fact]
    public void Info_Gemma3_PrintsSlidingWindowLayoutAndBytesPerLayerKind()
    {
        CliResult result = TqProcess.Run("info", TestPaths.Model(Path.Combine("arch", "arch-gemma3.gguf")));

        CliAssert.Succeeded(result);
        string[] lines = result.StdOut.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("SWA          window 64 on 5 of 6 layers (S sliding, F full: SSSSSF); sliding layers base 10000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("definition   gemma3: NeoX RoPE, scaling linear; full layers base 1000000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("KV per layer F16: 512 B/token per layer", StringComparison.Ordinal));
        string f16 = Assert.Single(lines, l => l.StartsWith("  F16 ", StringComparison.Ordinal));
        Assert.Contains(", 512 B/token past the sinks + ", f16, StringComparison.Ordinal);
        Assert.Empty(result.StdErr);
    }

    [Fact]
    public void Info_Qwen3Moe_PrintsExperts()
    {
        CliResult result = TqProcess.Run("info", TestPaths.Model(Path.Combine("arch", "arch-qwen3moe.gguf")));

        CliAssert.Succeeded(result);
        Assert.Contains("experts      8, 2 used per token (softmax, normalized weights), FFN 128 each", result.StdOut.Split('\n'));
        Assert.Contains("SWA          none (every layer attends to the whole context)", result.StdOut.Split('\n'));
    }

    public static TheoryData<string, int> CorruptFiles => new()
    {
        { "header only", 6 },
        { "cut in the metadata", 1000 },
        { "cut in the tensor data", 500_000 },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Info_TruncatedGguf_ExitsOneWithOneLine(string what, int keptBytes)
    {
        byte[] model = File.ReadAllBytes(TestPaths.Model("tq-stories-5m-q8_0.gguf"));
        Assert.True(keptBytes < model.Length, what);
        string path = Path.Combine(Path.GetTempPath(), $"tq-cli-truncated-{Guid.NewGuid():N}.gguf");
        try
        {
            File.WriteAllBytes(path, model.AsSpan(0, keptBytes).ToArray());

            CliResult result = TqProcess.Run("info", path);

            // The GGUF reader names the field and byte offset; only the too-short case names the file.
            CliAssert.FailedWithOneLine(result, "at byte offset", exitCode: 1);
            Assert.Matches("truncated or corrupt|too short", result.StdErr);
            Assert.Empty(result.StdOut);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Info_NotAGgufFile_ExitsOneWithOneLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tq-cli-text-{Guid.NewGuid():N}.gguf");
        try
        {
            File.WriteAllText(path, "this is a text file, long enough to hold a GGUF header but not one.\n");

            CliResult result = TqProcess.Run("info", path);

            CliAssert.FailedWithOneLine(result, "at byte offset", exitCode: 1);
            Assert.Empty(result.StdOut);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
