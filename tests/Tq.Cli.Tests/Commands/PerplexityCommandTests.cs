using System.Text.Json;
using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

public sealed class PerplexityCommandTests
{
    [Theory]
    [InlineData("stories260K.gguf")]
    [InlineData("tq-stories-5m-q8_0.gguf")]
    public void Perplexity_OneChunkJson_IsOneJsonObjectWithFinitePpl(string model)
    {
        CliResult result = TqProcess.Run("perplexity", "-m", TestPaths.Model(model), "-f", TestPaths.Corpus("tinystories", "tinystories_val_prefix.txt"),
            "-c", "128", "--chunks", "1", "--json");

        CliAssert.Succeeded(result);
        using JsonDocument json = JsonDocument.Parse(result.StdOut); // stdout holds the JSON and nothing else
        JsonElement root = json.RootElement;
        Assert.Equal(model, root.GetProperty("model").GetString());
        Assert.Equal(128, root.GetProperty("ctx").GetInt32());
        Assert.Equal(1, root.GetProperty("chunks").GetInt32());
        Assert.Equal(128 - 1 - (128 / 2), root.GetProperty("scored_tokens").GetInt32()); // the second half of the chunk, as llama-perplexity
        double ppl = root.GetProperty("ppl").GetDouble();
        Assert.True(double.IsFinite(ppl) && ppl > 1 && ppl < 512, $"PPL {ppl} (vocabulary 512)");
        Assert.Equal(ppl, Assert.Single(root.GetProperty("running").EnumerateArray()).GetDouble());
        Assert.True(double.IsFinite(root.GetProperty("stderr").GetDouble()));
        Assert.Contains("tokens evaluated", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Perplexity_TextOutput_EndsWithFinalEstimate()
    {
        CliResult result = TqProcess.Run("perplexity", "-m", TestPaths.Model("stories260K.gguf"), "-f", TestPaths.Corpus("tinystories", "tinystories_val_prefix.txt"),
            "-c", "128", "--chunks", "2");

        CliAssert.Succeeded(result);
        Assert.Matches(@"^\[1\]\d+\.\d{4},\[2\]\d+\.\d{4},\nFinal estimate: PPL = \d+\.\d{4} \+/- \d+\.\d{5}\n$", result.StdOut);
    }
}
