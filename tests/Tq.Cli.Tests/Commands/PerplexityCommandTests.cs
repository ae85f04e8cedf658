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
    // The whole path (tokenize the file, chunks, BOS rule, gemma3's sliding layers) against llama-perplexity's own output.
    [Fact]
    public void Perplexity_Gemma3Wikitext_MatchesLlamaCppRunningValues()
    {
        CliResult result = TqProcess.Run("perplexity", "-m", TestPaths.Model(Path.Combine("arch", "arch-gemma3.gguf")),
            "-f", TestPaths.Corpus("wikitext-2-raw", "wiki.test.raw"), "-c", "256", "-b", "256", "--chunks", "2", "-t", "2", "--json");

        CliAssert.Succeeded(result);
        using JsonDocument reference = JsonDocument.Parse(File.ReadAllText(TestPaths.Reference("architectures", "perplexity-wikitext-c256.json")));
        double[] expected = [.. reference.RootElement.GetProperty("results").EnumerateArray()
            .Single(r => r.GetProperty("model").GetString() == "arch-gemma3.gguf").GetProperty("per_chunk").EnumerateArray().Take(2).Select(e => e.GetDouble())];
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        double[] running = [.. json.RootElement.GetProperty("running").EnumerateArray().Select(e => e.GetDouble())];
        Assert.Equal(2, running.Length);
        for (int c = 0; c < 2; c++)
        {
            Assert.True(Math.Abs(running[c] - expected[c]) / expected[c] < 1e-3, $"chunk {c + 1}: tq {running[c]}, llama.cpp {expected[c]}");
        }
    }
}
