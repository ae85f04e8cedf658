using System.Text.Json;
using Tq.Core.Diagnostics;
using Tq.Core.Gguf;
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
    public static TheoryData<string> ArchModels => new()
    {
        "arch-llama3.gguf", "arch-qwen2.gguf", "arch-qwen2-yarn.gguf", "arch-qwen3.gguf", "arch-qwen3moe.gguf",
        "arch-phi3-longrope.gguf", "arch-gemma2.gguf", "arch-gemma3.gguf",
    };

    [Theory]
    [MemberData(nameof(ArchModels))]
    public void Perplexity_Wikitext256_MatchesLlamaCppPerChunk(string model) =>
        AssertMatches(model, TestPaths.Reference("architectures", "perplexity-wikitext-c256.json"), TestPaths.Corpus("wikitext-2-raw", "wiki.test.raw"),
            context: 256, chunks: 8, batch: 256);

    /// <summary>
    /// Another text and context, against llama.cpp v0.5.0 run for this test (the command is in the JSON). Batches of
    /// 64 tokens make the sliding-window layers' rings (window 64 + one batch) wrap many times per chunk.
    /// </summary>
    [Theory]
    [MemberData(nameof(ArchModels))]
    public void Perplexity_TinyStories512InBatchesOf64_MatchesLlamaCppPerChunk(string model) =>
        AssertMatches(model, Path.Combine(TestPaths.RepoRoot, "tests", "Tq.Core.Tests", "Models", "Reference", "perplexity-tinystories-c512.json"),
            TestPaths.Corpus("tinystories", "tq-stories-heldout.txt"), context: 512, chunks: 4, batch: 64);

    /// <summary>
    /// llama.cpp's BOS rule: with <c>tokenizer.ggml.add_bos_token = false</c> (Qwen's vocabularies) the text has no BOS
    /// and no chunk's first token is replaced by one. Reference: llama-perplexity on arch-qwen3 with that one key added.
    /// </summary>
    [Fact]
    public void Perplexity_VocabularyWithoutBos_LeavesChunksAsTheyAreAsLlamaCpp()
    {
        string dir = Directory.CreateTempSubdirectory("tq-nobos-").FullName;
        try
        {
            string path = ArchModelFiles.Rewrite(dir, "arch-qwen3.gguf", b => b.Add("tokenizer.ggml.add_bos_token", GgufValueType.Bool, false));
            AssertMatches(path, "arch-qwen3-no-bos.gguf", Path.Combine(TestPaths.RepoRoot, "tests", "Tq.Core.Tests", "Models", "Reference", "perplexity-qwen3-no-bos-c256.json"),
                TestPaths.Corpus("wikitext-2-raw", "wiki.test.raw"), context: 256, chunks: 8, batch: 256);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Mixtral through llama: arch-qwen3moe turned into a llama with 8 experts (top 2), as the JSON describes, against
    /// llama-perplexity on the same file: the llama definition's MoE branch and normal RoPE.
    /// </summary>
    [Fact]
    public void Perplexity_LlamaWithExperts_MatchesLlamaCpp()
    {
        string dir = Directory.CreateTempSubdirectory("tq-llama-moe-").FullName;
        try
        {
            string path = ArchModelFiles.Rewrite(dir, "arch-qwen3moe.gguf", replace: ("general.architecture", "llama"),
                renameKey: k => k == "qwen3moe.expert_feed_forward_length" ? null : k.StartsWith("qwen3moe.", StringComparison.Ordinal) ? "llama." + k["qwen3moe.".Length..] : k,
                keepTensor: t => !t.EndsWith("attn_q_norm.weight", StringComparison.Ordinal) && !t.EndsWith("attn_k_norm.weight", StringComparison.Ordinal));
            AssertMatches(path, "arch-llama-moe.gguf", Path.Combine(TestPaths.RepoRoot, "tests", "Tq.Core.Tests", "Models", "Reference", "perplexity-llama-moe-c256.json"),
                TestPaths.Corpus("wikitext-2-raw", "wiki.test.raw"), context: 256, chunks: 8, batch: 256);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// LongRoPE's choice of factors as llama.cpp makes it (the context padded to 256 against the original context):
    /// ctx 128 on a model trained on 128 takes the long factors; the same file told it was trained on 4,096 takes the
    /// short ones at ctx 256. Both against llama-perplexity (<c>Reference/perplexity-phi3-longrope-factors.json</c>).
    /// </summary>
    [Fact]
    public void Perplexity_Phi3LongRopeFactorChoice_MatchesLlamaCpp()
    {
        string reference = Path.Combine(TestPaths.RepoRoot, "tests", "Tq.Core.Tests", "Models", "Reference", "perplexity-phi3-longrope-factors.json");
        string wiki = TestPaths.Corpus("wikitext-2-raw", "wiki.test.raw");
        AssertMatches("arch-phi3-longrope.gguf", reference, wiki, context: 128, chunks: 8, batch: 128);
        string dir = Directory.CreateTempSubdirectory("tq-phi3-").FullName;
        try
        {
            string path = ArchModelFiles.Rewrite(dir, "arch-phi3-longrope.gguf", replace: ("phi3.rope.scaling.original_context_length", 4096u));
            AssertMatches(path, "arch-phi3-longrope-orig4096.gguf", reference, wiki, context: 256, chunks: 8, batch: 256);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void AssertMatches(string model, string referenceFile, string textFile, int context, int chunks, int batch) =>
        AssertMatches(TestPaths.Model(Path.Combine("arch", model)), model, referenceFile, textFile, context, chunks, batch);

    private static void AssertMatches(string path, string model, string referenceFile, string textFile, int context, int chunks, int batch)
    {
        double[] expected = Reference(referenceFile, model);
        Assert.Equal(chunks, expected.Length);
        using Model m = Model.Load(path, new ModelOptions { Threads = 2 });

        // llama-perplexity tokenizes the whole file; a prefix far longer than the chunks gives the same first tokens.
        string text = File.ReadAllText(textFile)[..40_000];
        int[] tokens = Tokenizer.FromGguf(m.File).Encode(text, addSpecial: true);
        Assert.True(tokens.Length > context * chunks, $"{tokens.Length} tokens");

        PerplexityResult result = PerplexityEvaluator.Evaluate(m, tokens.AsSpan(0, (context * chunks) + 1), context, chunks, batchSize: batch);

        Assert.Equal(chunks, result.RunningEstimates.Count);
        for (int c = 0; c < chunks; c++)
        {
            double relative = Math.Abs(result.RunningEstimates[c] - expected[c]) / expected[c];
            Assert.True(relative < 1e-3, $"{model} chunk {c + 1}: tq {result.RunningEstimates[c]:F4}, llama.cpp {expected[c]:F4} ({relative:P4})");
        }
    }

    private static double[] Reference(string file, string model)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(file));
        JsonElement entry = json.RootElement.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("model").GetString() == model);
        return [.. entry.GetProperty("per_chunk").EnumerateArray().Select(e => e.GetDouble())];
    }
}
