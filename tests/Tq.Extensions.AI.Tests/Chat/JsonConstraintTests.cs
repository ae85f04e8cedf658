using Tq.Core.Gguf;
using Tq.Core.Sampling;
using Tq.Core.Tokenization;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>The JSON-mode mask: the trie walk allows exactly the tokens the per-token reference allows.</summary>
public sealed class JsonConstraintTests
{
    public static TheoryData<string, string> States => new()
    {
        { "tq-chat-5m-f16.gguf", "" },
        { "tq-chat-5m-f16.gguf", "{" },
        { "tq-chat-5m-f16.gguf", "{\"name\": \"Li" },
        { "tq-chat-5m-f16.gguf", "{\"a\": [1, 2" },
        { "tq-chat-5m-f16.gguf", "{\"a\": tr" },
        { "tq-chat-5m-f16.gguf", "{\"a\": {}}" },
        { "vocab/ggml-vocab-qwen2.gguf", "" },
        { "vocab/ggml-vocab-qwen2.gguf", "{\"name\": \"Li" },
        { "vocab/ggml-vocab-qwen2.gguf", "{\"a\": -1.5e" },
        { "vocab/ggml-vocab-qwen2.gguf", "{\"a\": [true, " },
        { "vocab/ggml-vocab-llama-bpe.gguf", "{\"k\": \"\\u00" },
        { "vocab/ggml-vocab-llama-spm.gguf", "{\"k\": 12" },
    };

    [Theory]
    [MemberData(nameof(States))]
    public void Mask_TrieWalk_EqualsPerTokenCheck(string model, string prefix)
    {
        using GgufFile file = GgufFile.Open(TestPaths.Model(model));
        Tokenizer tokenizer = Tokenizer.FromGguf(file);
        JsonConstraint constraint = JsonConstraint.For(tokenizer);
        Assert.True(constraint.Advance(prefix));
        var trie = new float[tokenizer.VocabularySize];
        var linear = new float[tokenizer.VocabularySize];

        constraint.Mask(trie, tokenizer);
        constraint.MaskLinear(linear, tokenizer);

        Assert.Equal(linear, trie);
        int allowed = trie.Count(v => v == 0);
        Assert.InRange(allowed, 1, tokenizer.VocabularySize - 1);
    }
}
