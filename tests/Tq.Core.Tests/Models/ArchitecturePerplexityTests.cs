using System.Text.Json;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Tokenization;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Models;

/// <summary>
/// Every architecture definition against llama.cpp on the synthetic random-weight models of <c>shared/models/arch</c>:
/// the running perplexity after each of 8 chunks of 256 tokens of wikitext-2 must be within 0.1% of llama-perplexity's
/// (<c>shared/reference/architectures/perplexity-wikitext-c256.json</c>). Random weights make every difference in
/// RoPE, norm placement, masks, soft-caps or routing move these figures by percents.
/// </summary>
public sealed class ArchitecturePerplexityTests
{
    private const int Context = 256, Chunks = 8;

    public static TheoryData<string> ArchModels => new()
    {
        "arch-llama3.gguf", "arch-qwen2.gguf", "arch-qwen2-yarn.gguf", "arch-qwen3.gguf", "arch-qwen3moe.gguf",
        "arch-phi3-longrope.gguf", "arch-gemma2.gguf", "arch-gemma3.gguf",
    };

    [Theory]
    [MemberData(nameof(ArchModels))]
    public void Perplexity_Wikitext256_MatchesLlamaCppPerChunk(string model)
    {
        double[] expected = Reference(model);
        using Model m = Model.Load(TestPaths.Model(Path.Combine("arch", model)), new ModelOptions { Threads = 2 });

        // llama-perplexity tokenizes the whole file; a prefix far longer than 8 chunks gives the same first tokens.
        string text = File.ReadAllText(TestPaths.Corpus("wikitext-2-raw", "wiki.test.raw"))[..40_000];
        int[] tokens = Tokenizer.FromGguf(m.File).Encode(text, addSpecial: true);
        Assert.True(tokens.Length > Context * Chunks, $"{tokens.Length} tokens");

        PerplexityResult result = PerplexityEvaluator.Evaluate(m, tokens.AsSpan(0, (Context * Chunks) + 1), Context, Chunks, batchSize: Context);

        Assert.Equal(Chunks, result.RunningEstimates.Count);
        for (int c = 0; c < Chunks; c++)
        {
            double relative = Math.Abs(result.RunningEstimates[c] - expected[c]) / expected[c];
            Assert.True(relative < 1e-3, $"{model} chunk {c + 1}: tq {result.RunningEstimates[c]:F4}, llama.cpp {expected[c]:F4} ({relative:P4})");
        }
    }

    private static double[] Reference(string model)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(TestPaths.Reference("architectures", "perplexity-wikitext-c256.json")));
        JsonElement entry = json.RootElement.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("model").GetString() == model);
        return [.. entry.GetProperty("per_chunk").EnumerateArray().Select(e => e.GetDouble())];
    }
}
