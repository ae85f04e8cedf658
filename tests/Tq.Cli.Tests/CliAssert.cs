namespace Tq.Cli.Tests;

/// <summary>The CLI's error contract: a non-zero exit code and one clear line on stderr, never a stack trace.</summary>
internal static class CliAssert
{
    public static void Succeeded(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        NoStackTrace(result);
    }

    /// <summary>Exit code <paramref name="exitCode"/>, stderr is exactly one line starting with <paramref name="prefix"/> and containing <paramref name="fragment"/>.</summary>
    public static void FailedWithOneLine(CliResult result, string fragment, int exitCode = 1, string prefix = "tq: ")
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        NoStackTrace(result);
        string[] lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one stderr line\n{result}");
        Assert.StartsWith(prefix, lines[0], StringComparison.Ordinal);
        Assert.Contains(fragment, lines[0], StringComparison.Ordinal);
    }

    public static void NoStackTrace(CliResult result)
    {
        Assert.DoesNotContain("Unhandled exception", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StdOut, StringComparison.Ordinal);
    }
}
