using System.Diagnostics;
using System.Text;
using Tq.Testing;

namespace Tq.Cli.Tests;

/// <summary>
/// Runs the real <c>tq</c> command line (<c>dotnet tq.dll args</c>) as a child process with a timeout, capturing stdout,
/// stderr and the exit code: the parsing, exit codes and streams are what the tests check, so nothing runs in-process.
/// </summary>
internal static class TqProcess
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<string> s_tqDll = new(FindTqDll);

    public static string TqDll => s_tqDll.Value;

    public static CliResult Run(params string[] args) => Run(args, stdin: null);

    public static CliResult Run(IReadOnlyList<string> args, string? stdin)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            StandardInputEncoding = new UTF8Encoding(false),
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(TqDll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The CLI's own environment only: no model cache or shared-folder override leaks in from the test runner.
        start.Environment.Remove("TQ_MODELS");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(s_timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tq {string.Join(' ', args)} did not finish within {s_timeout.TotalSeconds} s.");
        }

        process.WaitForExit(); // drains the redirected streams
        return new CliResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    // The ProjectReference copies tq.dll beside the tests; a build of src/Tq.Cli in the same configuration is the fallback.
    private static string FindTqDll()
    {
        string beside = Path.Combine(AppContext.BaseDirectory, "tq.dll");
        if (File.Exists(beside) && File.Exists(Path.Combine(AppContext.BaseDirectory, "tq.runtimeconfig.json")))
        {
            return beside;
        }

#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        string built = Path.Combine(TestPaths.RepoRoot, "src", "Tq.Cli", "bin", configuration, "net10.0", "tq.dll");
        return File.Exists(built) ? built : throw new FileNotFoundException($"tq.dll was found neither beside the tests nor at '{built}'; build src/Tq.Cli first.", built);
    }
}
