using System.ComponentModel;
using Microsoft.Extensions.AI;
using Tq.Extensions.AI.ToolCalling;

namespace Tq.Extensions.AI.Tests.ToolCalling;

public sealed class ToolCallPromptTests
{
    [Fact]
    public void CreateInstructions_Functions_ListsThemAndTheCallSyntax()
    {
        AIFunction weather = AIFunctionFactory.Create(GetWeather, name: "get_weather");

        string instructions = ToolCallPrompt.CreateInstructions([weather]);

        Assert.Contains("\"name\":\"get_weather\"", instructions, StringComparison.Ordinal);
        Assert.Contains("The current weather in a city", instructions, StringComparison.Ordinal);
        Assert.Contains("\"city\"", instructions, StringComparison.Ordinal);
        Assert.Contains("```tool_call\n", instructions, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateInstructions_AnswerInTheTaughtSyntax_ParsesWithPromptFormat()
    {
        string instructions = ToolCallPrompt.CreateInstructions([AIFunctionFactory.Create(GetWeather, name: "get_weather")]);
        int start = instructions.IndexOf("```tool_call", StringComparison.Ordinal);
        string example = instructions[start..(instructions.IndexOf("```", start + 3, StringComparison.Ordinal) + 3)];
        string answer = example.Replace("<function name>", "get_weather", StringComparison.Ordinal)
                               .Replace("{<the arguments as a JSON object>}", "{\"city\": \"Oslo\"}", StringComparison.Ordinal);

        FunctionCallContent call = Assert.Single(ToolCallParser.Parse(answer, ToolCallFormat.Prompt).Calls);

        Assert.Equal("get_weather", call.Name);
        Assert.Equal("{\"city\":\"Oslo\"}", ToolCallAssert.Arguments(call));
    }

    [Fact]
    public void CreateInstructions_NoFunctions_IsEmpty()
    {
        Assert.Equal(string.Empty, ToolCallPrompt.CreateInstructions([]));
    }

    [Description("The current weather in a city")]
    private static string GetWeather([Description("The city name")] string city) => $"sunny in {city}";
}
