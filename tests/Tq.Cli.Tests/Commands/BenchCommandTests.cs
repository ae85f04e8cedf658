using System.Text.Json;
using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

public sealed class BenchCommandTests
{
    [Theory]
    [InlineData("f16", "f16", "f16")]
    [InlineData("q8_0", "q8_0", "q8_0")]
    [InlineData("tq", "turbo4", "turbo2")]
    public void Bench_SmallJson_HasPpAndTgEntriesForTheCache(string cache, string typeK, string typeV)
    {
        CliResult result = TqProcess.Run("bench", "-m", TestPaths.Model("stories260K.gguf"), "-p", "16", "-n", "8", "-r", "1", "--json", "--cache", cache);

        CliAssert.Succeeded(result);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        JsonElement[] entries = [.. json.RootElement.EnumerateArray()];
        Assert.Equal(["pp16", "tg8"], entries.Select(e => e.GetProperty("test").GetString()));
        foreach (JsonElement entry in entries)
        {
            Assert.Equal("stories260K.gguf", entry.GetProperty("model").GetString());
            double average = entry.GetProperty("avg_ts").GetDouble();
            Assert.True(double.IsFinite(average) && average > 0, $"avg_ts {average}");
            Assert.Equal(average, Assert.Single(entry.GetProperty("samples_ts").EnumerateArray()).GetDouble());
            Assert.Equal(0, entry.GetProperty("stddev_ts").GetDouble()); // one repetition
            Assert.Equal(typeK, entry.GetProperty("type_k").GetString());
            Assert.Equal(typeV, entry.GetProperty("type_v").GetString());
            Assert.True(entry.GetProperty("model_bytes").GetInt64() == new FileInfo(TestPaths.Model("stories260K.gguf")).Length);
        }
    }

    [Fact]
    public void Bench_Table_PrintsMarkdownRowsAndKvCacheOnStderr()
    {
        CliResult result = TqProcess.Run("bench", "-m", TestPaths.Model("stories260K.gguf"), "-p", "16", "-n", "0", "-r", "1");

        CliAssert.Succeeded(result);
        string[] lines = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("| model | size | threads | test | t/s | t/s of CPU time |", lines[0]);
        Assert.StartsWith("| stories260K.gguf |", Assert.Single(lines[2..]), StringComparison.Ordinal);
        Assert.Contains("| pp16 |", lines[2], StringComparison.Ordinal);
        Assert.Contains("tq: KV cache F16", result.StdErr, StringComparison.Ordinal);
    }
}
