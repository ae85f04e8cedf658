using System.Diagnostics;
using Tq.Testing;

namespace Tq.Samples.Tests;

/// <summary>The ChatBot sample as a child process: a bad model path or option is one line, no stack trace; a chat works.</summary>
public sealed class ChatBotTests
{
    [Theory]
    [InlineData("/nonexistent/tq-samples/missing.gguf", "", "missing.gguf")]
    [InlineData("{model}", "five", "'five' is not a number of bits")]
    [InlineData("{model}", "7", "BitsK is 7")]
    public void ChatBot_BadArguments_OneLineWithoutStackTrace(string model, string bits, string expected)
    {
        string[] args = bits.Length == 0 ? [Expand(model)] : [Expand(model), bits];

        (int exit, string stdout, string stderr) = Run(args, stdin: "Hi\n/exit\n");

        Assert.Equal(1, exit);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.StartsWith("chatbot: ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr + stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ChatBot_PipedQuestion_AnswersAndExits()
    {
        (int exit, string stdout, string stderr) = Run([TestPaths.Model("tq-chat-5m-q8_0.gguf")], stdin: "Hello! Who are you?\n/exit\n");

        Assert.True(exit == 0, stderr);
        Assert.Contains("bot> ", stdout, StringComparison.Ordinal);
    }

    private static string Expand(string arg) => arg == "{model}" ? TestPaths.Model("tq-chat-5m-q8_0.gguf") : arg;

    private static (int Exit, string StdOut, string StdErr) Run(string[] args, string stdin)
    {
        // tests/Tq.Samples.Tests/bin/<Configuration>/<tfm>/ -> samples/ChatBot/bin/<Configuration>/<tfm>/ChatBot.dll
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string dll = Path.GetFullPath(Path.Combine(here.FullName, "..", "..", "..", "..", "..", "samples", "ChatBot", "bin", here.Parent!.Name, here.Name, "ChatBot.dll"));
        Assert.True(File.Exists(dll), $"the ChatBot sample is not built at {dll}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("ChatBot did not finish within 60 s.");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
