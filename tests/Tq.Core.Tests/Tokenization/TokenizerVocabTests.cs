using System.Text;
using Tq.Core.Gguf;
using Tq.Core.Tokenization;
using Tq.Testing;

namespace Tq.Core.Tests.Tokenization;

public sealed class TokenizerVocabTests
{
    public static TheoryData<string, int> Cases => VocabTestVectors.AllCases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_LlamaCppVector_MatchesExpectedIds(string vocab, int index)
    {
        (string text, int[] expected) = VocabTestVectors.Read(vocab)[index];
        Tokenizer tokenizer = VocabTestVectors.Tokenizer(vocab);

        // test-tokenizer-0 tokenizes with add_special = false and parse_special = true.
        int[] ids = tokenizer.Encode(text, addSpecial: false, parseSpecial: true);

        Assert.Equal(expected, ids);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pieces_LlamaCppVector_ConcatenateToTheText(string vocab, int index)
    {
        (string text, int[] expected) = VocabTestVectors.Read(vocab)[index];
        Tokenizer tokenizer = VocabTestVectors.Tokenizer(vocab);

        var bytes = new List<byte>();
        foreach (int id in expected)
        {
            bytes.AddRange(tokenizer.TokenToPieceUtf8(id).ToArray());
        }

        // SentencePiece pieces carry the added space prefix ('▁' before the first word); byte-level BPE is lossless.
        string joined = Encoding.UTF8.GetString([.. bytes]);
        string expectedText = tokenizer.AddSpacePrefix && text.Length > 0 ? " " + text : text;
        Assert.Equal(expectedText, joined);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_VocabularyWithoutSpaceCleanup_RoundTripsTheText(string vocab, int index)
    {
        (string text, int[] expected) = VocabTestVectors.Read(vocab)[index];
        Tokenizer tokenizer = VocabTestVectors.Tokenizer(vocab);

        string decoded = tokenizer.Decode(expected);

        // llama_detokenize strips the SentencePiece space prefix; BPE vocabularies with clean_spaces rewrite " ?" etc.,
        // so only those without that clean-up round-trip exactly.
        if (tokenizer.Kind == TokenizerKind.SentencePiece || !CleansSpaces(vocab))
        {
            Assert.Equal(text, decoded);
        }
        else
        {
            Assert.Equal(LlamaCleanSpaces(text), decoded);
        }
    }

    [Theory]
    [InlineData("bert")]
    [InlineData("t5")]
    [InlineData("rwkv")]
    public void FromMetadata_UnsupportedTokenizerModel_ThrowsNotSupportedNamingTheModel(string model)
    {
        var values = new Dictionary<string, GgufValue>(StringComparer.Ordinal)
        {
            ["tokenizer.ggml.model"] = new GgufValue(GgufValueType.String, model),
            ["tokenizer.ggml.tokens"] = new GgufValue(GgufValueType.Array, new[] { "a", "b" }, GgufValueType.String),
        };

        NotSupportedException ex = Assert.Throws<NotSupportedException>(() => Tokenizer.FromMetadata(new GgufMetadata(values, [.. values.Keys])));

        Assert.Contains($"'{model}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromMetadata_UnknownBpePreTokenizer_ThrowsNotSupportedNamingIt()
    {
        var values = new Dictionary<string, GgufValue>(StringComparer.Ordinal)
        {
            ["tokenizer.ggml.model"] = new GgufValue(GgufValueType.String, "gpt2"),
            ["tokenizer.ggml.pre"] = new GgufValue(GgufValueType.String, "no-such-pre"),
            ["tokenizer.ggml.tokens"] = new GgufValue(GgufValueType.Array, new[] { "a", "b" }, GgufValueType.String),
            ["tokenizer.ggml.merges"] = new GgufValue(GgufValueType.Array, new[] { "a b" }, GgufValueType.String),
        };

        NotSupportedException ex = Assert.Throws<NotSupportedException>(() => Tokenizer.FromMetadata(new GgufMetadata(values, [.. values.Keys])));

        Assert.Contains("'no-such-pre'", ex.Message, StringComparison.Ordinal);
    }

    private static bool CleansSpaces(string vocab) => vocab is "llama-bpe" or "gpt-2" or "falcon" or "mpt" or "starcoder" or "refact" or "gemma-4";

    // An independent restatement of llama.cpp's clean_up_tokenization_spaces, on strings.
    private static string LlamaCleanSpaces(string text) => text
        .Replace(" ?", "?", StringComparison.Ordinal).Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal).Replace(" 'm", "'m", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal).Replace(" 've", "'ve", StringComparison.Ordinal);
}
