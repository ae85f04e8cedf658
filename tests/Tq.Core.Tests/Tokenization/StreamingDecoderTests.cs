using System.Text;
using Tq.Core.Tokenization;

namespace Tq.Core.Tests.Tokenization;

public sealed class StreamingDecoderTests
{
    public static TheoryData<string, string> Texts => new()
    {
        { "llama-spm", "Hello 🦙 world, 你好 — ÄÖÜ 🤖🦙!" },
        { "llama-spm", "🦙🦙🦙" },
        { "llama-bpe", "Hello 🦙 world, 你好 — ÄÖÜ 🤖🦙!" },
        { "qwen2", "கா 🦙 ⇒ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢" },
        { "gpt-2", "façade 🚀 ναι" },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Append_MultiByteCharactersSplitAcrossTokens_YieldsFullDecodeWithoutReplacementCharacters(string vocab, string text)
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer(vocab);
        int[] ids = tokenizer.Encode(text, addSpecial: false);

        // The emoji must really be split across tokens for this to test anything.
        Assert.Contains(ids, id => !IsCompleteUtf8(tokenizer.TokenToPieceUtf8(id)));

        StreamingDecoder decoder = tokenizer.CreateStreamingDecoder();
        var streamed = new StringBuilder();
        foreach (int id in ids)
        {
            string chunk = decoder.Append(id);
            Assert.DoesNotContain('\uFFFD', chunk);
            streamed.Append(chunk);
        }

        streamed.Append(decoder.Flush());
        string expected = Encoding.UTF8.GetString([.. ids.SelectMany(id => tokenizer.TokenToPieceUtf8(id).ToArray())]);
        Assert.Equal(expected, streamed.ToString());
        Assert.EndsWith(text, streamed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Flush_UnfinishedCharacter_ReturnsReplacementAndResets()
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer("llama-spm");
        Assert.True(tokenizer.TryGetTokenId("<0xF0>", out int lead));
        StreamingDecoder decoder = tokenizer.CreateStreamingDecoder();

        Assert.Equal(string.Empty, decoder.Append(lead));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal(string.Empty, decoder.Flush());
    }

    [Fact]
    public void Append_ControlToken_RendersOnlyWhenAsked()
    {
        Tokenizer tokenizer = VocabTestVectors.Tokenizer("llama-spm");

        Assert.Equal(string.Empty, tokenizer.CreateStreamingDecoder().Append(tokenizer.EosId));
        Assert.Equal("</s>", tokenizer.CreateStreamingDecoder(renderSpecial: true).Append(tokenizer.EosId));
    }

    private static bool IsCompleteUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
