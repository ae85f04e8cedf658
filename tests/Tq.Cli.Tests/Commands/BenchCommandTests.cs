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
        Assert.Equal("| model | size | threads | cache | test | t/s | t/s of CPU time | read GB/s (of machine) |", lines[0]);
        Assert.StartsWith("| stories260K.gguf |", Assert.Single(lines[2..]), StringComparison.Ordinal);
        Assert.Contains("| pp16 |", lines[2], StringComparison.Ordinal);
        Assert.Contains("tq: KV cache F16", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_CommaListsAndDepth_RunEveryCombination()
    {
        CliResult result = TqProcess.Run("bench", "-m", TestPaths.Model("stories260K.gguf"), "-p", "8,16", "-n", "4", "-d", "0,32", "-r", "1", "--json", "--cache", "f16,tq");

        CliAssert.Succeeded(result);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        JsonElement[] entries = [.. json.RootElement.EnumerateArray()];
        string[] expected = ["pp8", "pp16", "tg4", "pp8 @ d32", "pp16 @ d32", "tg4 @ d32"];
        Assert.Equal([.. expected, .. expected], entries.Select(e => e.GetProperty("test").GetString()));
        Assert.Equal(["f16", "turbo4"], entries.Select(e => e.GetProperty("type_k").GetString()).Distinct());
        foreach (JsonElement tg in entries.Where(e => e.GetProperty("test").GetString()!.StartsWith("tg", StringComparison.Ordinal)))
        {
            // Decode reads the weights and, at depth, the KV rows: both counted, and more KV bytes at the greater depth.
            Assert.True(tg.GetProperty("weight_bytes_per_token").GetInt64() > 0);
            Assert.True(tg.GetProperty("read_gbps").GetDouble() > 0);
            Assert.True(tg.GetProperty("machine_read_gbps").GetDouble() > 0);
        }

        long shallow = entries.First(e => e.GetProperty("test").GetString() == "tg4").GetProperty("kv_bytes_per_token").GetInt64();
        long deep = entries.First(e => e.GetProperty("test").GetString() == "tg4 @ d32").GetProperty("kv_bytes_per_token").GetInt64();
        Assert.True(deep > shallow, $"KV bytes read per token: {deep} at depth 32, {shallow} at depth 0");
    }

    [Fact]
    public void Bench_Parallel_DecodesSeveralSequencesThroughTheScheduler()
    {
        CliResult result = TqProcess.Run("bench", "-m", TestPaths.Model("stories260K.gguf"), "-p", "0", "-n", "4", "-np", "1,3", "-r", "1", "--json");

        CliAssert.Succeeded(result);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        JsonElement[] entries = [.. json.RootElement.EnumerateArray()];
        Assert.Equal(["tg4 ×3", "tg4"], entries.Select(e => e.GetProperty("test").GetString()));
        Assert.All(entries, e => Assert.True(e.GetProperty("avg_ts").GetDouble() > 0));
        Assert.Matches(@"tq: tg4 ×3: [0-9.]+ sequences per forward pass on average", result.StdErr);
    }

    [Theory]
    [InlineData("-np", "0", "--parallel (-np) takes sequence counts of at least 1.")]
    [InlineData("-d", "0,x", "-d takes a comma list of non-negative whole numbers; 'x' is not one.")]
    [InlineData("-p", "-4", "-p takes a comma list of non-negative whole numbers; '-4' is not one.")]
    public void Bench_BadList_ExitsOneNamingIt(string option, string value, string message)
    {
        CliResult result = TqProcess.Run("bench", "-m", TestPaths.Model("stories260K.gguf"), option, value, "-r", "1");

        CliAssert.FailedWithOneLine(result, message);
    }
}
