namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>
/// The <c>&lt;think&gt;</c> splitter on scripted output streams, cut into tokens at every position: the split must not
/// depend on where the tokens end, and no part of a tag may reach either side.
/// </summary>
public sealed class ReasoningParserTests
{
    public static TheoryData<string, bool, string, string> Streams => new()
    {
        // output, prompt already opened the block, expected reasoning, expected answer
        { "<think>\nThe user greets me. I greet back.\n</think>\n\nHello! How can I help?", false, "The user greets me. I greet back.", "Hello! How can I help?" },
        { "\n<think>a < b, and </thinx> is not a tag</think>ok", false, "a < b, and </thinx> is not a tag", "ok" },
        { "Okay, 2 + 2 is 4.\n</think>\n\nThe answer is **4**.", true, "Okay, 2 + 2 is 4.", "The answer is **4**." },
        { "<think>\n\n</think>\n\nDirect answer.", false, string.Empty, "Direct answer." },
        { "<think>\nstill thinking when the tokens ran out", false, "still thinking when the tokens ran out", string.Empty },
        { "still thinking when the tokens ran out  \n", true, "still thinking when the tokens ran out", string.Empty },
        { "  Hello <think> is only a tag at the start", false, string.Empty, "  Hello <think> is only a tag at the start" },
        { "<thin>not a tag", false, string.Empty, "<thin>not a tag" },
        { "<th", false, string.Empty, "<th" },
        { "<think>x</think>answer with </think> inside", false, "x", "answer with </think> inside" },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public void Append_EverySplitIntoTwoPieces_SameReasoningAndAnswer(string output, bool startsInReasoning, string reasoning, string answer)
    {
        for (int cut = 0; cut <= output.Length; cut++)
        {
            (string r, string a) = Run(startsInReasoning, output[..cut], output[cut..]);
            Assert.True(r == reasoning && a == answer, $"cut at {cut}: reasoning '{r}', answer '{a}'");
        }
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Append_OneCharacterPerPiece_SameReasoningAndAnswer(string output, bool startsInReasoning, string reasoning, string answer)
    {
        (string r, string a) = Run(startsInReasoning, [.. output.Select(c => c.ToString())]);
        Assert.Equal(reasoning, r);
        Assert.Equal(answer, a);
    }

    [Fact]
    public void Append_ReasoningBeforeClose_StreamsBeforeTheBlockEnds()
    {
        var parser = new ReasoningParser(startsInReasoning: false);
        Assert.Equal((string.Empty, string.Empty), parser.Append("<think>\n"));
        Assert.Equal(("First", string.Empty), parser.Append("First"));
        Assert.Equal((" step", string.Empty), parser.Append(" step</"));
        Assert.Equal((string.Empty, "Done"), parser.Append("think>\n\nDone"));
    }

    private static (string Reasoning, string Answer) Run(bool startsInReasoning, params string[] pieces)
    {
        var parser = new ReasoningParser(startsInReasoning);
        string reasoning = string.Empty, answer = string.Empty;
        foreach (string piece in pieces)
        {
            (string r, string a) = parser.Append(piece);
            reasoning += r;
            answer += a;
        }

        (string fr, string fa) = parser.Flush();
        return (reasoning + fr, answer + fa);
    }
}
