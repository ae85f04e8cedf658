using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI.Tests.ToolCalling;

/// <summary>Arbitrary and truncated outputs never throw, and every split of them parses like the whole.</summary>
public sealed class ToolCallFuzzTests
{
    private static readonly string[] s_fragments =
    [
        "<tool_call>", "</tool_call>", "<tool_", "</tool", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "<|python_tag|>", "```tool_call", "```",
        "{", "}", "[", "]", "\"", "\\", ":", ",", ";", " ", "\n", "\"name\"", "\"arguments\"", "\"parameters\"", "\"function\"", "\"id\"",
        "\"get_weather\"", "\"city\"", "\"Paris\"", "1", "-2.5e3", "true", "null", "<function=f>", "<parameter=x>", "</parameter>", "</function>",
        "x.call(", "q=\"v\"", ")", "hello", "é", "😀",
    ];

    private static readonly string[] s_validCalls =
    [
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
        "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"a\": [1, {\"b\": \"}\"}]}}]",
        "[TOOL_CALLS]f[ARGS]{\"a\": \"[ARGS]\"}",
        "{\"name\": \"f\", \"parameters\": {\"s\": \"\\\"}\"}}",
        "<|python_tag|>{\"name\": \"f\", \"parameters\": {}}",
        "```tool_call\n{\"name\": \"f\", \"arguments\": {}}\n```",
    ];

    public static TheoryData<ToolCallFormat> ConcreteFormats => new()
    {
        ToolCallFormat.None, ToolCallFormat.Hermes, ToolCallFormat.Llama3, ToolCallFormat.Mistral, ToolCallFormat.Prompt,
    };

    [Theory]
    [MemberData(nameof(ConcreteFormats))]
    public void Parse_RandomFragments_NeverThrowsAndSplitsAgree(ToolCallFormat format)
    {
        var random = new Random(1234 + (int)format);
        for (int n = 0; n < 1500; n++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(0, 24)).Select(_ => s_fragments[random.Next(s_fragments.Length)]));
            AssertConsistent(format, text, random);
        }
    }

    [Theory]
    [MemberData(nameof(ConcreteFormats))]
    public void Parse_TruncatedAndCorruptedCalls_NeverThrowsAndSplitsAgree(ToolCallFormat format)
    {
        var random = new Random(99 + (int)format);
        foreach (string call in s_validCalls)
        {
            for (int length = 0; length <= call.Length; length++)
            {
                AssertConsistent(format, call[..length], random);
            }

            for (int n = 0; n < 200; n++)
            {
                char[] chars = call.ToCharArray();
                chars[random.Next(chars.Length)] = "{}[]\"\\:,<>/ x"[random.Next(13)];
                AssertConsistent(format, new string(chars), random);
            }
        }
    }

    private static void AssertConsistent(ToolCallFormat format, string text, Random random)
    {
        string whole = ToolCallAssert.Describe([ToolCallParser.Parse(text, format)]);
        var pieces = new List<string>();
        for (int i = 0; i < text.Length;)
        {
            int n = Math.Min(text.Length - i, random.Next(1, 6));
            pieces.Add(text.Substring(i, n));
            i += n;
        }

        Assert.Equal(whole, ToolCallAssert.Describe(ToolCallAssert.Stream(format, pieces)));
    }
}
