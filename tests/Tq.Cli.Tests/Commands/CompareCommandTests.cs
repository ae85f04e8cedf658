using System.Text.Json;
using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

public sealed class CompareCommandTests
{
    [Fact]
    public void Compare_SmallestSettings_PrintsTableAndWritesJson()
    {
        string jsonPath = Path.Combine(Path.GetTempPath(), $"tq-cli-compare-{Guid.NewGuid():N}.json");
        try
        {
            CliResult result = TqProcess.Run("compare", "-m", TestPaths.Model("stories260K.gguf"), "-f", TestPaths.Corpus("tinystories", "tinystories_val_prefix.txt"),
                "-c", "64", "--chunks", "1", "--grid", "one", "--decode", "0", "--json", jsonPath);

            CliAssert.Succeeded(result);
            string[] lines = result.StdOut.Split('\n');
            int header = Array.FindIndex(lines, l => l.StartsWith("cache ", StringComparison.Ordinal));
            Assert.True(header > 0, result.ToString());
            Assert.Contains("PPL", lines[header], StringComparison.Ordinal);
            Assert.Contains("mean KLD", lines[header], StringComparison.Ordinal);
            string[] rows = [.. lines[(header + 1)..].Where(l => l.Length > 0)];
            Assert.Equal(2, rows.Length);
            Assert.Matches(@"^F16 +\d+\.\d{4} +\+0\.00% +0\.00000 +100\.00%", rows[0]);
            Assert.StartsWith("K4/V2 s4 w14 b0 ", rows[1], StringComparison.Ordinal); // the default --cache tq setting

            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(jsonPath));
            Assert.NotEqual(JsonValueKind.Undefined, json.RootElement.ValueKind);
            Assert.Contains("F16", File.ReadAllText(jsonPath), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(jsonPath);
        }
    }

    [Fact]
    public void Compare_UnknownGrid_ExitsOneNamingTheGrid()
    {
        CliResult result = TqProcess.Run("compare", "-m", TestPaths.Model("stories260K.gguf"), "-f", TestPaths.Corpus("tinystories", "tinystories_val_prefix.txt"),
            "--grid", "nope");

        CliAssert.FailedWithOneLine(result, "Unknown grid 'nope'");
    }
}
