using Microsoft.Extensions.AI;

namespace Tq.SemanticKernel.Tests;

public sealed class ToolNameResolvingChatClientTests
{
    [Theory]
    [InlineData("get_weather", "weather_get_weather")] // the plugin prefix the model dropped
    [InlineData("weather_get_weather", "weather_get_weather")] // exact
    [InlineData("get_time", "get_time")] // exact wins over clock_get_time
    [InlineData("add", "add")] // two tools end with _add: ambiguous, left alone
    [InlineData("forecast", "forecast")] // no tool ends with _forecast
    [InlineData("eather_get_weather", "eather_get_weather")] // a suffix that does not start after '_'
    public void Resolve_CallName_MapsToOfferedTool(string written, string expected)
    {
        List<AITool> tools =
        [
            AIFunctionFactory.Create(() => 1, "weather_get_weather"),
            AIFunctionFactory.Create(() => 1, "get_time"),
            AIFunctionFactory.Create(() => 1, "clock_get_time"),
            AIFunctionFactory.Create(() => 1, "calc_add"),
            AIFunctionFactory.Create(() => 1, "math_add"),
        ];
        var arguments = new Dictionary<string, object?> { ["city"] = "Oslo" };
        List<AIContent> contents = [new TextContent("x"), new FunctionCallContent("call_1", written, arguments)];

        ToolNameResolvingChatClient.Resolve(contents, tools);

        var call = Assert.IsType<FunctionCallContent>(contents[1]);
        Assert.Equal(expected, call.Name);
        Assert.Equal("call_1", call.CallId);
        Assert.Same(arguments, call.Arguments);
        Assert.IsType<TextContent>(contents[0]);
    }
}
