using System.Text.Json;
using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

public sealed class RunCommandTests
{
    // Greedy decoding of "Once upon a time" against llama.cpp's greedy continuation of the same model file.
    [Theory]
    [InlineData("stories260K.gguf", "stories260K")]
    [InlineData("tq-stories-5m-q8_0.gguf", "tq-stories-5m-q8_0")]
    public void Run_GreedyEightTokens_StdoutIsPromptPlusLlamaCppContinuationPrefix(string model, string reference)
    {
        GreedyReference expected = GreedyReference.Load(reference).Single(r => r.Prompt == "Once upon a time");

        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model(model), "-p", expected.Prompt, "-n", "8", "--temp", "0", "-c", "64");

        CliAssert.Succeeded(result);
        Assert.EndsWith("\n", result.StdOut, StringComparison.Ordinal);
        string generated = result.StdOut[..^1];
        Assert.StartsWith(expected.Prompt, generated, StringComparison.Ordinal);
        string continuation = generated[expected.Prompt.Length..];
        Assert.True(continuation.Length >= 8, $"8 tokens gave only '{continuation}'");
        Assert.StartsWith(continuation, expected.Text, StringComparison.Ordinal);

        // Timings go to stderr only, so stdout can be piped as text.
        Assert.DoesNotContain("tokens/s", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("tq: prefill 5 tokens", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("decode 8 tokens", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_StopString_EndsTheOutputBeforeIt()
    {
        // stories260K's greedy continuation is ", there was a little girl named Lily. ...": stop at "little".
        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model("stories260K.gguf"), "-p", "Once upon a time", "-n", "16", "--temp", "0", "--stop", "little", "-c", "64");

        CliAssert.Succeeded(result);
        Assert.Equal("Once upon a time, there was a \n", result.StdOut);
    }

    [Fact]
    public void Run_JsonSchema_ContinuationIsJsonMatchingTheSchema()
    {
        // The JSON stage of the sampling chain: the continuation is a complete JSON value of the schema, then the end.
        const string schema = """{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}}}""";
        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "-p", "Person: ", "-n", "48", "--temp", "0", "-c", "128", "--json-schema", schema);

        CliAssert.Succeeded(result);
        string continuation = result.StdOut["Person: ".Length..^1];
        using JsonDocument json = JsonDocument.Parse(continuation);
        Assert.Equal(["name", "age"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("name").ValueKind);
        Assert.True(json.RootElement.GetProperty("age").TryGetInt64(out _), continuation);
    }

    [Fact]
    public void Run_Json_ContinuationIsAJsonObject()
    {
        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "-p", "Data: ", "-n", "64", "--temp", "0", "-c", "128", "--json");

        CliAssert.Succeeded(result);
        string continuation = result.StdOut["Data: ".Length..^1];
        Assert.StartsWith("{", continuation, StringComparison.Ordinal);
        Assert.True(Tq.Core.Sampling.JsonConstraint.IsValidPrefix(continuation, out _), continuation);
    }

    [Theory]
    [InlineData("{\"type\": ", "--json-schema is not valid JSON")]
    [InlineData("[1, 2]", "--json-schema must be a JSON Schema object")]
    public void Run_BadJsonSchema_ExitsOneWithOneLine(string schema, string message)
    {
        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model("stories260K.gguf"), "-p", "x", "--json-schema", schema);

        CliAssert.FailedWithOneLine(result, message);
        Assert.Empty(result.StdOut);
    }

    [Fact]
    public void Run_PromptLongerThanContext_ExitsOneWithOneLine()
    {
        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model("stories260K.gguf"), "-p", "Once upon a time", "-n", "8", "-c", "4");

        CliAssert.FailedWithOneLine(result, "context window of 4 tokens");
        Assert.Empty(result.StdOut);
    }
}
