using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

/// <summary>Every command: a missing model and invalid option values give a non-zero exit and one clear line, no stack trace.</summary>
public sealed class BadInputTests
{
    private const string Missing = "/nonexistent/tq-cli-tests/missing-model.gguf";

    public static TheoryData<string[]> MissingModelCommands => new()
    {
        new[] { "info", Missing },
        new[] { "tokenize", "-m", Missing, "-p", "x" },
        new[] { "template", Missing },
        new[] { "template", "-m", Missing },
        new[] { "run", "-m", Missing, "-p", "x", "-n", "1" },
        new[] { "perplexity", "-m", Missing, "-f", "{corpus}" },
        new[] { "bench", "-m", Missing, "-p", "16", "-n", "8", "-r", "1" },
        new[] { "compare", "-m", Missing, "-f", "{corpus}", "--grid", "one" },
        new[] { "niah", "-m", Missing, "--haystack", "{corpus}", "--lengths", "64" },
        new[] { "chat", "-m", Missing },
        new[] { "serve", "-m", Missing, "--port", "0" },
    };

    [Theory]
    [MemberData(nameof(MissingModelCommands))]
    public void Command_MissingModel_ExitsOneNamingTheFile(string[] args)
    {
        CliResult result = TqProcess.Run(Expand(args), stdin: "Hello\n");

        CliAssert.FailedWithOneLine(result, Missing);
        Assert.Empty(result.StdOut);
    }

    public static TheoryData<string[], string> InvalidOptionValues => new()
    {
        { ["run", "-m", "{model}", "-p", "x", "-n", "-5"], "--n-predict (-n) must be 0 or more; got -5" },
        { ["serve", "-m", "{model}", "--port", "70000"], "--port must be between 0 and 65535; got 70000" },
        { ["serve", "-m", "{model}", "--port", "0", "--bits-k", "5"], "BitsK is 5" },
        { ["serve", "-m", "{model}", "--port", "0", "--sessions", "0"], "MaxConcurrentSessions" },
        { ["run", "-m", "{model}", "-p", "x", "-n", "4", "--top-p", "2"], "Top-p must be in (0, 1]" },
        { ["perplexity", "-m", "{model}", "-f", "{corpus}", "-c", "0"], "--ctx must be at least 4 tokens; got 0" },
        { ["perplexity", "-m", "{model}", "-f", "/nonexistent/tq-cli-tests/text.txt"], "/nonexistent/tq-cli-tests/text.txt" },
        { ["bench", "-m", "{model}", "-r", "0"], "repetitions" },
        { ["bench", "-m", "{model}", "-p", "16", "-n", "8", "-r", "1", "--cache", "zip"], "Unknown cache kind 'ZIP'" },
        { ["compare", "-m", "{model}", "-f", "{corpus}", "-c", "64", "--chunks", "1", "--grid", "one", "--bits-k", "9"], "Bits must be 2, 2.5, 3, 3.5, 4 or 8" },
        { ["chat", "-m", "{model}", "--bits-k", "7"], "BitsK is 7" },
        { ["tokenize", "-m", "{model}"], "Pass exactly one of -p <text> or -f <file>" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptionValues))]
    public void Command_InvalidOptionValue_ExitsOneWithClearMessage(string[] args, string message)
    {
        CliResult result = TqProcess.Run(Expand(args), stdin: string.Empty);

        CliAssert.FailedWithOneLine(result, message);
        Assert.Empty(result.StdOut); // nothing half-written before the error
    }

    [Theory]
    [InlineData("run", "-n", "abc", "Cannot parse argument 'abc' for option '--n-predict' as an integer")]
    [InlineData("run", "--temp", "warm", "Cannot parse argument 'warm' for option '--temp' as a number")]
    public void Command_UnparsableOptionValue_ExitsOneLineNamingTheOptionNotTheHelp(string command, string option, string value, string fragment)
    {
        CliResult result = TqProcess.Run(command, "-m", TestPaths.Model("stories260K.gguf"), "-p", "x", option, value);

        CliAssert.FailedWithOneLine(result, fragment);
        Assert.DoesNotContain("System.", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(result.StdOut);
    }

    [Fact]
    public void Run_ArgumentError_HasNoDotNetParameterName()
    {
        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model("stories260K.gguf"), "-p", "x", "-n", "-5");

        CliAssert.FailedWithOneLine(result, "--n-predict (-n) must be 0 or more; got -5.");
        Assert.DoesNotContain("(Parameter", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ContextBeyondTraining_Warns()
    {
        CliResult result = TqProcess.Run("run", "-m", TestPaths.Model("stories260K.gguf"), "-p", "x", "-n", "1", "-c", "4096");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("tq: warning: --ctx 4096 is beyond the model's trained context of", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Command_Unknown_ExitsNonZero()
    {
        CliResult result = TqProcess.Run("frobnicate");

        Assert.NotEqual(0, result.ExitCode);
        CliAssert.NoStackTrace(result);
        Assert.Contains("frobnicate", result.StdErr, StringComparison.Ordinal);
    }

    private static string[] Expand(string[] args) =>
        [.. args.Select(a => a switch
        {
            "{model}" => TestPaths.Model("stories260K.gguf"),
            "{corpus}" => TestPaths.Corpus("tinystories", "tinystories_val_prefix.txt"),
            _ => a,
        })];
}
