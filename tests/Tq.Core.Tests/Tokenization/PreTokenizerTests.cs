using System.Text;
using System.Text.RegularExpressions;
using Tq.Core.Tokenization;

namespace Tq.Core.Tests.Tokenization;

public sealed class PreTokenizerTests
{
    [Theory]
    [InlineData("llama-bpe", "Hello world123456 'S  \n\n x", new[] { "Hello", " world", "123", "456", " '", "S", "  \n\n", " x" })]
    [InlineData("gpt-2", "Hello  world's 3.14!!", new[] { "Hello", " ", " world", "'s", " 3", ".", "14", "!!" })]
    [InlineData("qwen2", "Ünïcode 42 日本", new[] { "Ünïcode", " ", "4", "2", " 日本" })]
    [InlineData("starcoder", "abc 123", new[] { "abc", " ", "1", "2", "3" })]
    public void Split_KnownPreTokenizer_GivesLlamaCppWords(string pre, string text, string[] expected)
    {
        PreTokenizer tokenizer = PreTokenizer.ForName(pre == "llama-bpe" ? "llama-bpe" : pre, out _, out _, out _);
        int[] cpts = [.. text.EnumerateRunes().Select(r => r.Value)];

        List<int> lengths = tokenizer.Split(cpts);

        var words = new List<string>();
        int start = 0;
        foreach (int length in lengths)
        {
            words.Add(string.Concat(cpts.AsSpan(start, length).ToArray().Select(char.ConvertFromUtf32)));
            start += length;
        }

        Assert.Equal(expected, words);
    }

    [Fact]
    public void ToDotNet_AstralRangeInClass_BecomesSurrogateAlternation()
    {
        string pattern = RegexTranslator.ToDotNet("[a-z𐐀-𐑏]+");
        var regex = new Regex(pattern);

        Assert.Equal("ab𐐀𐑏", regex.Match("ab𐐀𐑏!").Value);
        Assert.DoesNotMatch(regex, "𐑐");
    }

    [Fact]
    public void ToDotNet_DollarAnchor_MatchesOnlyAtTheVeryEnd()
    {
        var regex = new Regex(RegexTranslator.ToDotNet(@"\s+$"));

        Assert.DoesNotMatch(regex, "a \nb");
        Assert.Equal(" \n", regex.Match("a \n").Value);

        // Segments are matched with Match(input, start, length): the segment's end is the end for '$' and lookaheads,
        // as for llama.cpp's std::cregex_iterator over [start, end).
        Assert.Equal(" ", regex.Match("a  \n", 0, 2).Value);
    }

    [Fact]
    public void CollapseCategories_LetterClass_UsesLlamaCppCollapsedBytes()
    {
        Assert.Equal(@"[\u00D2A-Za-z]+", RegexTranslator.CollapseCategories(@"\p{L}+"));
        Assert.Equal(@"[^\s\u00D2A-Za-z\u00D10-9]", RegexTranslator.CollapseCategories(@"[^\s\p{L}\p{N}]"));
    }

    [Fact]
    public void ByteLevelMapping_AllBytes_RoundTrip()
    {
        var bytes = new List<byte>();
        string all = new([.. Enumerable.Range(0, 256).Select(b => ByteLevelMapping.ToChar((byte)b))]);

        Assert.True(ByteLevelMapping.TryDecode(all, bytes));
        Assert.Equal(Enumerable.Range(0, 256).Select(b => (byte)b), bytes);
        Assert.Equal('Ġ', ByteLevelMapping.ToChar((byte)' '));
        Assert.False(ByteLevelMapping.TryDecode("a b", bytes));
    }
}
