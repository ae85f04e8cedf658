using System.Diagnostics;
using System.Text;

namespace Tq.Packaging.Tests;

/// <summary>The outcome of one child process.</summary>
internal sealed record ProcessResult(string Command, int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Throws with the command and both streams when the process failed.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"'{Command}' exited with {ExitCode}.\nstdout:\n{StdOut}\nstderr:\n{StdErr}");
        }

        return this;
    }
}

/// <summary>
/// Runs the dotnet CLI and the built apps as child processes with a timeout, as a user's shell would. Each process
/// gets the CLI's quiet settings and no MSBuild state from the test host (which runs under <c>dotnet test</c>).
/// </summary>
internal static class ProcessRunner
{
    public static ProcessResult Run(string fileName, IEnumerable<string> args, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // `dotnet test` hands its MSBuild variables to the test host; a child build must not inherit them.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
                     || k.Equals("MSBUILD_EXE_PATH", StringComparison.OrdinalIgnoreCase)
                     || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        // No MSBuild worker nodes or build server outlive the test.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        string command = $"{Path.GetFileName(fileName)} {string.Join(' ', args)}";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"'{command}' did not start.");
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{command}' did not finish within {timeout.TotalSeconds} s.");
        }

        process.WaitForExit(); // drains the redirected streams
        return new ProcessResult(command, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    public static ProcessResult Dotnet(string workingDirectory, TimeSpan timeout, params string[] args) =>
        Run("dotnet", args, workingDirectory, timeout);
}
