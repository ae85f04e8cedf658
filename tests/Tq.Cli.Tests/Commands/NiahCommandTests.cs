using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

public sealed class NiahCommandTests
{
    [Fact]
    public void Niah_SmallestSettings_PrintsF16AndTurboQuantGrids()
    {
        CliResult result = TqProcess.Run("niah", "-m", TestPaths.Model("stories260K.gguf"), "--haystack", TestPaths.Corpus("tinystories", "tinystories_val_prefix.txt"),
            "--lengths", "64,128", "--depths", "0,50");

        CliAssert.Succeeded(result);
        Assert.Contains("expected continuation '48151'", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("F16: rows = needle depth, columns = context length", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("K4/V2 s4 w14 b0: rows = needle depth", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, result.StdOut.Split('\n').Count(l => l.TrimEnd() == "depth     64   128"));
        Assert.Equal(2, result.StdOut.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^ +50% +[#.] +[#.]$")));
        Assert.Matches(@"log-probability of the needle's answer tokens .*F16 -?\d+\.\d{3}", result.StdOut);
    }

    [Theory]
    [InlineData("--depths", "abc", "--depths: 'abc' is not a number")]
    [InlineData("--lengths", "64,x", "--lengths: 'x' is not a number")]
    [InlineData("--lengths", "32", "Lengths must be between 64 and the model's context")]
    public void Niah_InvalidList_ExitsOneNamingTheOption(string option, string value, string message)
    {
        CliResult result = TqProcess.Run("niah", "-m", TestPaths.Model("stories260K.gguf"), "--haystack", TestPaths.Corpus("tinystories", "tinystories_val_prefix.txt"),
            option, value);

        CliAssert.FailedWithOneLine(result, message);
    }
}
