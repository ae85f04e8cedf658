namespace Tq.Cli.Tests;

/// <summary>What one run of the <c>tq</c> process left behind.</summary>
internal sealed record CliResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Every field, for assertion messages: a failing test shows what the command said.</summary>
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}
