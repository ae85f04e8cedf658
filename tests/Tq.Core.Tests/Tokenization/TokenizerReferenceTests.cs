using System.Text;
using System.Text.Json;
using Tq.Core.Gguf;
using Tq.Core.Tokenization;
using Tq.Testing;

namespace Tq.Core.Tests.Tokenization;

/// <summary>The real models' tokenizers against llama.cpp's recorded tokenizations.</summary>
public sealed class TokenizerReferenceTests
{
    private static readonly Lazy<Tokenizer> s_stories260K = new(() => Load(TestPaths.Model("stories260K.gguf")));
    private static readonly Lazy<Tokenizer> s_stories5M = new(() => Load(TestPaths.Model("tq-stories-5m-f16.gguf")));
    private static readonly Lazy<Tokenizer> s_chat5M = new(() => Load(TestPaths.Model("tq-chat-5m-f16.gguf")));

    [Theory]
    [InlineData("tokens-tinystories_val_prefix.txt.json")]
    [InlineData("tokens-wiki.valid.raw.json")]
    public void Encode_WholeCorpusWithStories260K_MatchesLlamaTokenize(string reference)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Reference("stories260K", reference)));
        JsonElement root = json.RootElement;
        string corpus = root.GetProperty("text").GetString()!;
        int[] expected = [.. root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
        Assert.Equal(root.GetProperty("count").GetInt32(), expected.Length);

        // llama-tokenize -f reads the file's bytes as they are (no BOM or newline handling).
        string text = Encoding.UTF8.GetString(File.ReadAllBytes(TestPaths.Corpus(corpus["corpora/".Length..].Split('/'))));
        int[] ids = s_stories260K.Value.Encode(text, addSpecial: true, parseSpecial: true);

        // A span comparison and the first differing position: xunit's collection diff is slow on 700k ids.
        int mismatch = ids.AsSpan().CommonPrefixLength(expected);
        Assert.True(mismatch == expected.Length && ids.Length == expected.Length,
            $"ids differ from llama-tokenize at position {mismatch} (got {ids.Length} ids, expected {expected.Length})");
    }

    [Fact]
    public void Encode_GreedyPromptsOfStories5M_MatchLlamaServerPromptTokens()
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Reference("tq-stories-5m-f16", "greedy.json")));
        int checkedPrompts = 0;
        foreach (JsonElement result in json.RootElement.GetProperty("results").EnumerateArray())
        {
            string prompt = result.GetProperty("prompt").GetString()!;
            int[] expected = [.. result.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32())];

            Assert.Equal(expected, s_stories5M.Value.Encode(prompt, addSpecial: true, parseSpecial: true));
            checkedPrompts++;
        }

        Assert.True(checkedPrompts > 0);
    }

    [Fact]
    public void Decode_GreedyContinuationsOfStories5M_MatchLlamaServerText()
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Reference("tq-stories-5m-f16", "greedy.json")));
        foreach (JsonElement result in json.RootElement.GetProperty("results").EnumerateArray())
        {
            int[] tokens = [.. result.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32())];
            StreamingDecoder decoder = s_stories5M.Value.CreateStreamingDecoder();
            var text = new StringBuilder();
            foreach (int id in tokens)
            {
                text.Append(decoder.Append(id));
            }

            text.Append(decoder.Flush());
            Assert.Equal(result.GetProperty("text").GetString(), text.ToString());
        }
    }

    [Fact]
    public void Encode_ChatMlWithParseSpecial_ProducesTheSpecialIds()
    {
        Tokenizer tokenizer = s_chat5M.Value;
        Assert.True(tokenizer.TryGetTokenId("<|im_start|>", out int imStart));
        Assert.True(tokenizer.TryGetTokenId("<|im_end|>", out int imEnd));

        int[] ids = tokenizer.Encode("<|im_start|>user\nHi<|im_end|>", addSpecial: false, parseSpecial: true);

        Assert.Equal(imStart, ids[0]);
        Assert.Equal(imEnd, ids[^1]);
        Assert.DoesNotContain(ids[1..^1], id => tokenizer.IsControl(id));
        Assert.Equal("user\nHi", tokenizer.Decode(ids.AsSpan(1, ids.Length - 2)));
        Assert.Equal(imEnd, tokenizer.EosId);
        Assert.True(tokenizer.IsEndOfGeneration(imEnd));
        Assert.False(tokenizer.IsEndOfGeneration(imStart));
        Assert.False(tokenizer.AddSpacePrefix);
    }

    [Fact]
    public void Encode_ChatMlWithoutParseSpecial_TreatsControlTextAsPlainText()
    {
        Tokenizer tokenizer = s_chat5M.Value;

        int[] ids = tokenizer.Encode("<|im_start|>user", addSpecial: false, parseSpecial: false);

        Assert.DoesNotContain(ids, id => tokenizer.IsControl(id));
        Assert.Equal("<|im_start|>user", tokenizer.Decode(ids));
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("tools")]
    [InlineData("tools_first_turn")]
    public void Encode_ChatRenderingOfChat5M_HasLlamaServerPromptTokenCount(string conversation)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Reference("tq-chat-5m-f16", "chat.json")));
        JsonElement root = json.RootElement;
        string rendering = root.GetProperty("renderings").GetProperty(conversation).GetString()!;
        int expected = root.GetProperty("chat_completions").GetProperty(conversation).GetProperty("usage").GetProperty("prompt_tokens").GetInt32();

        int[] ids = s_chat5M.Value.Encode(rendering, addSpecial: true, parseSpecial: true);

        Assert.Equal(expected, ids.Length);
    }

    private static Tokenizer Load(string path)
    {
        using GgufFile file = GgufFile.Open(path);
        return Tokenizer.FromGguf(file);
    }
}
