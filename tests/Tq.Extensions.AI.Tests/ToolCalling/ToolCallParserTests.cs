using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Tq.Extensions.AI.ToolCalling;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.ToolCalling;

public sealed partial class ToolCallParserTests
{
    /// <summary>(format, model output, expected description).</summary>
    public static TheoryData<ToolCallFormat, string, string> Examples => new()
    {
        // Hermes / Qwen 2.5 / tq-chat-5m
        { ToolCallFormat.Hermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Denver\"}}\n</tool_call>", "C:get_weather{\"city\":\"Denver\"}\n" },
        { ToolCallFormat.Hermes, "Let me check.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {\"y\": [true, null]}}\n</tool_call>",
            "T:Let me check.\n\nC:a{\"x\":1}\nT:\n\nC:b{\"y\":[true,null]}\n" },
        { ToolCallFormat.Hermes, "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"q\\\": \\\"x\\\"}\"}</tool_call>", "C:f{\"q\":\"x\"}\n" },
        { ToolCallFormat.Hermes, "<tool_call>{\"name\": \"now\"}</tool_call>", "C:now{}\n" },
        { ToolCallFormat.Hermes, "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>", "C:get_weather{\"city\":\"Paris\",\"days\":3}\n" },
        { ToolCallFormat.Hermes, "a < b and <tool> is not <tool_call", "T:a < b and <tool> is not <tool_call\n" },
        { ToolCallFormat.Hermes, "<tool_call>{\"name\": \"f\", \"arguments\": {\"x\": }</tool_call>after", "T:after\nE:<tool_call>{\"name\": \"f\", \"arguments\": {\"x\": }</tool_call>\n" },
        { ToolCallFormat.Hermes, "<tool_call>{\"arguments\": {}}</tool_call>", "E:<tool_call>{\"arguments\": {}}</tool_call>\n" },
        { ToolCallFormat.Hermes, "<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>", "E:<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>\n" },
        { ToolCallFormat.Hermes, "<tool_call>{\"name\": \"f\", \"arguments\": {\"x\": 1}}", "E:<tool_call>{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n" },
        { ToolCallFormat.Hermes, "[TOOL_CALLS][{\"name\": \"f\"}]", "T:[TOOL_CALLS][{\"name\": \"f\"}]\n" },

        // Llama 3.x
        { ToolCallFormat.Llama3, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", "C:get_weather{\"city\":\"Paris\"}\n" },
        { ToolCallFormat.Llama3, "\n{\"type\": \"function\", \"name\": \"f\", \"parameters\": {\"a\": \"}{\"}}; {\"name\": \"g\", \"parameters\": {}}", "T:\n\nC:f{\"a\":\"}{\"}\nC:g{}\n" },
        { ToolCallFormat.Llama3, "<|python_tag|>{\"name\": \"f\", \"parameters\": {\"n\": 2}}", "C:f{\"n\":2}\n" },
        { ToolCallFormat.Llama3, "<|python_tag|>brave_search.call(query=\"weather in Paris\", count=3)", "C:brave_search{\"query\":\"weather in Paris\",\"count\":3}\n" },
        { ToolCallFormat.Llama3, "<|python_tag|>print(1 + 1)", "C:python{\"code\":\"print(1 \\u002B 1)\"}\n" },
        { ToolCallFormat.Llama3, "{\"answer\": 42} is JSON, {\"name\": \"x\"} too", "T:{\"answer\": 42} is JSON, {\"name\": \"x\"} too\n" },
        { ToolCallFormat.Llama3, "The weather is fine.", "T:The weather is fine.\n" },
        { ToolCallFormat.Llama3, "{\"name\": \"f\", \"parameters\": {", "E:{\"name\": \"f\", \"parameters\": {\n" },
        { ToolCallFormat.Llama3, "{\"na", "T:{\"na\n" },

        // Mistral
        { ToolCallFormat.Mistral, "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abc123xyz\"}]", "C:get_weather{\"city\":\"Paris\"}\n" },
        { ToolCallFormat.Mistral, "[TOOL_CALLS] [{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"arguments\": {\"k\": \"v\"}}]", "C:a{}\nC:b{\"k\":\"v\"}\n" },
        { ToolCallFormat.Mistral, "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[ARGS]{}", "C:get_weather{\"city\":\"Paris\"}\nC:get_time{}\n" },
        { ToolCallFormat.Mistral, "[TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{\"city\": \"Oslo\"}", "C:get_weather{\"city\":\"Oslo\"}\n" },
        { ToolCallFormat.Mistral, "Sure. [TOOL_CALLS]bad name{\"x\": 1}", "T:Sure. {\"x\": 1}\nE:[TOOL_CALLS]bad name\n" },
        { ToolCallFormat.Mistral, "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}]", "E:[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}]\n" },
        { ToolCallFormat.Mistral, "[TOOL_CALLS]f[ARGS]", "E:[TOOL_CALLS]f[ARGS]\n" },
        { ToolCallFormat.Mistral, "[TOOL_CALL is not an opener", "T:[TOOL_CALL is not an opener\n" },

        // Prompt fallback
        { ToolCallFormat.Prompt, "I will look it up.\n```tool_call\n{\"name\": \"search\", \"arguments\": {\"q\": \"cats\"}}\n```", "T:I will look it up.\n\nC:search{\"q\":\"cats\"}\n" },
        { ToolCallFormat.Prompt, "```python\nprint(1)\n```", "T:```python\nprint(1)\n```\n" },
        { ToolCallFormat.Prompt, "```tool_call\n[{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\"}]\n```done", "C:a{}\nC:b{}\nT:done\n" },
        { ToolCallFormat.Prompt, "```tool_call\n{\"name\": \"a\"", "E:```tool_call\n{\"name\": \"a\"\n" },

        // None
        { ToolCallFormat.None, "<tool_call>{\"name\": \"a\"}</tool_call>", "T:<tool_call>{\"name\": \"a\"}</tool_call>\n" },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Parse_FormatExamples_GivesTextCallsAndErrors(ToolCallFormat format, string output, string expected)
    {
        ToolCallParseResult result = ToolCallParser.Parse(output, format);

        Assert.Equal(expected, ToolCallAssert.Describe([result]));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Append_SplitAtEveryPosition_SameAsParse(ToolCallFormat format, string output, string expected)
    {
        for (int i = 0; i <= output.Length; i++)
        {
            Assert.Equal(expected, ToolCallAssert.Describe(ToolCallAssert.Stream(format, [output[..i], output[i..]])));
        }

        Assert.Equal(expected, ToolCallAssert.Describe(ToolCallAssert.Stream(format, output.Select(c => c.ToString()))));
    }

    [Fact]
    public void Append_PartialOpener_HoldsItBackUntilDecided()
    {
        var parser = new StreamingToolCallParser(ToolCallFormat.Hermes);

        Assert.Equal("Hello ", parser.Append("Hello <tool_").Text);
        ToolCallParseResult call = parser.Append("call>{\"name\": \"f\", \"arguments\": {}}</tool_call> bye <");
        Assert.Equal("f", Assert.Single(call.Calls).Name);
        Assert.Equal(" bye ", call.Text);
        Assert.Equal("<x", parser.Append("x").Text);
        Assert.Same(ToolCallParseResult.Empty, parser.Complete());
    }

    [Fact]
    public void Append_InsideCall_EmitsNothingUntilClosed()
    {
        var parser = new StreamingToolCallParser(ToolCallFormat.Hermes);

        Assert.Same(ToolCallParseResult.Empty, parser.Append("<tool_call>{\"name\": \"f\", "));
        Assert.Same(ToolCallParseResult.Empty, parser.Append("\"arguments\": {\"a\": 1}}"));
        Assert.Single(parser.Append("</tool_call>").Calls);
    }

    [Fact]
    public void Complete_UnterminatedCall_ReportsMalformed()
    {
        var parser = new StreamingToolCallParser(ToolCallFormat.Hermes);
        parser.Append("ok <tool_call>{\"name\": \"f\"");

        ToolCallParseResult end = parser.Complete();

        MalformedToolCall error = Assert.Single(end.Errors);
        Assert.True(end.HasErrors);
        Assert.Equal("<tool_call>{\"name\": \"f\"", error.RawText);
        Assert.Contains("not closed", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => parser.Append("x"));
        Assert.Throws<InvalidOperationException>(() => parser.Complete());
    }

    [Fact]
    public void Parse_NoIdFromModel_InventsShortIds()
    {
        ToolCallParseResult result = ToolCallParser.Parse("<tool_call>{\"name\": \"a\"}</tool_call><tool_call>{\"name\": \"b\"}</tool_call>", ToolCallFormat.Hermes);

        Assert.All(result.Calls, c => Assert.Matches(CallId(), c.CallId));
        Assert.NotEqual(result.Calls[0].CallId, result.Calls[1].CallId);
    }

    [Fact]
    public void Parse_MistralId_IsKept()
    {
        ToolCallParseResult json = ToolCallParser.Parse("[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}, \"id\": \"abc123xyz\"}]", ToolCallFormat.Mistral);
        ToolCallParseResult args = ToolCallParser.Parse("[TOOL_CALLS]f[CALL_ID]q9w8e7r6t[ARGS]{}", ToolCallFormat.Mistral);

        Assert.Equal("abc123xyz", Assert.Single(json.Calls).CallId);
        Assert.Equal("q9w8e7r6t", Assert.Single(args.Calls).CallId);
    }

    [Fact]
    public void Parse_Arguments_AreJsonElementsInADictionary()
    {
        FunctionCallContent call = Assert.Single(ToolCallParser.Parse("<tool_call>{\"name\": \"f\", \"arguments\": {\"n\": 3, \"s\": \"x\", \"o\": {\"k\": [1]}}}</tool_call>", ToolCallFormat.Hermes).Calls);

        Assert.NotNull(call.Arguments);
        Assert.Equal(3, ((JsonElement)call.Arguments["n"]!).GetInt32());
        Assert.Equal("x", ((JsonElement)call.Arguments["s"]!).GetString());
        Assert.Equal(JsonValueKind.Object, ((JsonElement)call.Arguments["o"]!).ValueKind);
    }

    [Theory]
    [InlineData(ToolCallFormat.Auto)]
    [InlineData((ToolCallFormat)99)]
    public void Constructor_NotAConcreteFormat_Throws(ToolCallFormat format)
    {
        Assert.Throws<ArgumentException>(() => new StreamingToolCallParser(format));
        Assert.Throws<ArgumentException>(() => ToolCallParser.Parse("x", format));
    }

    [Theory]
    [InlineData("HuggingFaceTB-SmolLM3-3B.jinja", ToolCallFormat.Prompt)]
    [InlineData("Mistral-Small-3.2-24B-Instruct-2506.jinja", ToolCallFormat.Mistral)]
    [InlineData("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", ToolCallFormat.Hermes)]
    [InlineData("NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", ToolCallFormat.Hermes)]
    [InlineData("Qwen-Qwen2.5-7B-Instruct.jinja", ToolCallFormat.Hermes)]
    [InlineData("Qwen-Qwen3-0.6B.jinja", ToolCallFormat.Hermes)]
    [InlineData("Qwen3.5-4B.jinja", ToolCallFormat.Hermes)]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", ToolCallFormat.Prompt)]
    [InlineData("google-gemma-2-2b-it.jinja", ToolCallFormat.Prompt)]
    [InlineData("ibm-granite-granite-3.3-2B-Instruct.jinja", ToolCallFormat.Prompt)]
    [InlineData("meta-llama-Llama-3.1-8B-Instruct.jinja", ToolCallFormat.Llama3)]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct.jinja", ToolCallFormat.Llama3)]
    [InlineData("microsoft-Phi-3.5-mini-instruct.jinja", ToolCallFormat.Prompt)]
    [InlineData("mistralai-Mistral-Nemo-Instruct-2407.jinja", ToolCallFormat.Mistral)]
    public void DetectFormat_PublishedTemplates_PicksTheirSyntax(string template, ToolCallFormat expected)
    {
        Assert.Equal(expected, ToolCallParser.DetectFormat(File.ReadAllText(TestPaths.Template(template))));
    }

    [Fact]
    public void DetectFormat_NoTemplate_FallsBackToPrompt()
    {
        Assert.Equal(ToolCallFormat.Prompt, ToolCallParser.DetectFormat(null));
        Assert.Equal(ToolCallFormat.Prompt, ToolCallParser.DetectFormat(string.Empty));
    }

    [GeneratedRegex("^call_[0-9a-z]{8}$")]
    private static partial Regex CallId();
}
