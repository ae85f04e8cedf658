using Tq.Core.Tokenization;

namespace Tq.Core.Tests.Tokenization;

public sealed class TokenizerApiTests
{
    [Theory]
    [InlineData("llama-spm", true)]
    [InlineData("llama-bpe", true)]
    [InlineData("gpt-2", false)]
    public void Encode_AddSpecial_PrependsBosPerAddBos(string vocab, bool addsBos)
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer(vocab);

        int[] withSpecial = tokenizer.Encode("Hello world", addSpecial: true);
        int[] without = tokenizer.Encode("Hello world", addSpecial: false);

        Assert.Equal(addsBos, tokenizer.AddBos);
        Assert.Equal(addsBos ? [tokenizer.BosId, .. without] : without, withSpecial);
    }

    [Fact]
    public void Encode_EmptyText_GivesOnlyBos()
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer("llama-spm");

        Assert.Equal([tokenizer.BosId], tokenizer.Encode(string.Empty, addSpecial: true));
        Assert.Empty(tokenizer.Encode(string.Empty, addSpecial: false));
    }

    [Fact]
    public void Encode_IntoCallerList_AppendsAfterExistingIds()
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer("llama-spm");
        var destination = new List<int> { 42 };

        tokenizer.Encode("Hello", destination, addSpecial: false);

        Assert.Equal([42, .. tokenizer.Encode("Hello", addSpecial: false)], destination);
    }

    [Fact]
    public void Decode_WithBosAndRemoveSpecial_KeepsLlamaCppSpaceHandling()
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer("llama-spm");
        int[] ids = tokenizer.Encode("Hello world", addSpecial: true);

        // llama_detokenize: without BOS handling the first piece loses its space prefix; removing a leading BOS
        // (remove_special) keeps it, as llama.cpp does.
        Assert.Equal("Hello world", tokenizer.Decode(ids.AsSpan(1)));
        Assert.Equal(" Hello world", tokenizer.Decode(ids, removeSpecial: true));
        Assert.Equal("<s> Hello world", tokenizer.Decode(ids, renderSpecial: true));
    }

    [Theory]
    [InlineData("llama-bpe", "<|eot_id|>")]
    [InlineData("llama-bpe", "<|end_of_text|>")]
    [InlineData("qwen2", "<|im_end|>")]
    [InlineData("qwen2", "<|endoftext|>")]
    [InlineData("phi-3", "<|end|>")]
    [InlineData("gpt-2", "<|endoftext|>")]
    public void IsEndOfGeneration_LlamaCppEogText_IsTrue(string vocab, string token)
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer(vocab);

        Assert.True(tokenizer.TryGetTokenId(token, out int id));
        Assert.True(tokenizer.IsEndOfGeneration(id));
        Assert.True(tokenizer.IsEndOfGeneration(tokenizer.EosId));
        Assert.False(tokenizer.IsEndOfGeneration(tokenizer.Encode("Hello", addSpecial: false)[0]));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(32000)]
    public void TokenToPiece_IdOutOfRange_ThrowsArgumentOutOfRange(int id)
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer("llama-spm");

        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.TokenToPiece(id));
    }

    [Fact]
    public void Encode_NullText_ThrowsArgumentNull()
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer("llama-spm");

        Assert.Throws<ArgumentNullException>(() => tokenizer.Encode(null!));
    }

    [Theory]
    [InlineData("llama-spm")]
    [InlineData("qwen2")]
    public void Encode_FromManyThreads_GivesTheSameIdsAsSequential(string vocab)
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer(vocab);
        IReadOnlyList<(string Text, int[] Ids)> vectors = VocabTestVectors.Read(vocab);
        var results = new int[vectors.Count * 8][];

        Parallel.For(0, results.Length, i => results[i] = tokenizer.Encode(vectors[i % vectors.Count].Text, addSpecial: false, parseSpecial: true));

        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal(vectors[i % vectors.Count].Ids, results[i]);
        }
    }
}
