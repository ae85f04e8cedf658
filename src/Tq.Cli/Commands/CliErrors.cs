using Tq.Core.Gguf;

namespace Tq.Cli.Commands;

/// <summary>Turns the engine's documented exceptions into one clear line on stderr and a non-zero exit code.</summary>
internal static class CliErrors
{
    public static int Run(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            action();
            return 0;
        }
        catch (Exception ex) when (IsUserError(ex))
        {
            Console.Error.WriteLine($"tq: {OneLine(ex.Message)}");
            return 1;
        }
    }

    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("tq: cancelled");
            return 130;
        }
        catch (Exception ex) when (IsUserError(ex))
        {
            Console.Error.WriteLine($"tq: {OneLine(ex.Message)}");
            return 1;
        }
    }

    // ArgumentOutOfRangeException appends "Actual value was ..." on a new line: keep the error to the one promised line.
    internal static string OneLine(string message) => message.ReplaceLineEndings(" ");

    private static bool IsUserError(Exception ex) => ex is GgufFormatException or FileNotFoundException or DirectoryNotFoundException
        or NotSupportedException or ArgumentException or InvalidDataException or KeyNotFoundException or InvalidCastException or InvalidOperationException;
}
