using System.Text.Json;
using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

public sealed class TokenizeCommandTests
{
    // tq-stories-5m uses stories260K's SentencePiece vocabulary, so llama.cpp's prompt ids for it hold for stories260K.gguf too.
    private static readonly IReadOnlyList<GreedyReference> s_prompts = GreedyReference.Load("tq-stories-5m-f16");

    public static TheoryData<int> PromptIndexes => [.. Enumerable.Range(0, s_prompts.Count)];

    [Theory]
    [MemberData(nameof(PromptIndexes))]
    public void Tokenize_Ids_MatchLlamaCppPromptTokens(int index)
    {
        GreedyReference reference = s_prompts[index];

        CliResult result = TqProcess.Run("tokenize", "-m", TestPaths.Model("stories260K.gguf"), "-p", reference.Prompt, "--ids");

        CliAssert.Succeeded(result);
        Assert.Equal($"[{string.Join(", ", reference.PromptTokens)}]\n", result.StdOut);
        Assert.Empty(result.StdErr);
    }

    [Fact]
    public void Tokenize_NoBos_DropsTheBosId()
    {
        GreedyReference reference = s_prompts[0];
        Assert.Equal(1, reference.PromptTokens[0]);

        CliResult result = TqProcess.Run("tokenize", "-m", TestPaths.Model("stories260K.gguf"), "-p", reference.Prompt, "--ids", "--no-bos");

        CliAssert.Succeeded(result);
        Assert.Equal($"[{string.Join(", ", reference.PromptTokens[1..])}]\n", result.StdOut);
    }

    [Fact]
    public void Tokenize_Default_PrintsOneIdAndPiecePerToken()
    {
        CliResult result = TqProcess.Run("tokenize", "-m", TestPaths.Model("stories260K.gguf"), "-p", s_prompts[0].Prompt);

        CliAssert.Succeeded(result);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(s_prompts[0].PromptTokens.Length, lines.Length);
        Assert.Equal("     1 -> '<s>'", lines[0]);
        // SentencePiece adds a space prefix: the pieces after BOS spell " " + the prompt.
        Assert.Equal(" " + s_prompts[0].Prompt, string.Concat(lines[1..].Select(l => l[(l.IndexOf("-> '", StringComparison.Ordinal) + 4)..^1])));
    }

    [Fact]
    public void Tokenize_JsonlOnStdin_WritesOneIdArrayPerLine()
    {
        string input = string.Concat(s_prompts.Select(p => JsonSerializer.Serialize(p.Prompt) + "\n"));

        CliResult result = TqProcess.Run(["tokenize", "-m", TestPaths.Model("stories260K.gguf"), "--jsonl"], input);

        CliAssert.Succeeded(result);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(s_prompts.Count, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            Assert.Equal(s_prompts[i].PromptTokens, JsonSerializer.Deserialize<int[]>(lines[i]));
        }
    }

    [Fact]
    public void Tokenize_JsonlLineNotJson_ExitsOneNamingTheLine()
    {
        CliResult result = TqProcess.Run(["tokenize", "-m", TestPaths.Model("stories260K.gguf"), "--jsonl"], "\"fine\"\nnot json\n");

        CliAssert.FailedWithOneLine(result, "stdin line 2 is not a JSON string");
    }

    // tq-chat-5m's vocabulary is stories260K's 512 pieces, then <|im_start|> (512), <|im_end|> (513), ...
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Tokenize_ParseSpecial_ImStartIsOneControlTokenOnlyWhenAsked(bool parseSpecial)
    {
        string[] args = ["tokenize", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "-p", "<|im_start|>user", "--ids", .. parseSpecial ? ["--parse-special"] : Array.Empty<string>()];

        CliResult result = TqProcess.Run(args);

        CliAssert.Succeeded(result);
        int[] ids = JsonSerializer.Deserialize<int[]>(result.StdOut)!;
        Assert.Equal(parseSpecial, ids.Contains(512));
        if (parseSpecial)
        {
            Assert.Equal(512, ids[ids[0] == 1 ? 1 : 0]);
        }
        else
        {
            Assert.All(ids, id => Assert.InRange(id, 0, 511)); // spelled out with ordinary pieces
        }
    }

    [Fact]
    public void Tokenize_ParseSpecialPieces_PrintsTheControlTokenText()
    {
        CliResult result = TqProcess.Run("tokenize", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "-p", "<|im_start|>user", "--parse-special");

        CliAssert.Succeeded(result);
        Assert.Contains("   512 -> '<|im_start|>'\n", result.StdOut, StringComparison.Ordinal);
    }
}
