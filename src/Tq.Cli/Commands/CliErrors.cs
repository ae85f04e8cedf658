using Tq.AspNetCore;
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

    /// <summary>
    /// The message as the one promised line, without what .NET appends to argument errors (" (Parameter 'count')",
    /// "Actual value was ...").
    /// </summary>
    internal static string OneLine(string message) => OpenAIErrors.Clean(message);

    /// <summary>A command-line parse error in words instead of .NET type names ("as expected type 'System.Int32'").</summary>
    internal static string ParseError(string message)
    {
        foreach ((string type, string words) in s_typeNames)
        {
            message = message.Replace($"as expected type '{type}'", $"as {words}", StringComparison.Ordinal);
        }

        return OneLine(message);
    }

    private static readonly (string Type, string Words)[] s_typeNames =
    [
        ("System.Int32", "an integer"),
        ("System.Int64", "an integer"),
        ("System.UInt64", "a non-negative integer"),
        ("System.Nullable`1[System.Int32]", "an integer"),
        ("System.Nullable`1[System.Int64]", "an integer"),
        ("System.Nullable`1[System.UInt64]", "a non-negative integer"),
        ("System.Single", "a number"),
        ("System.Double", "a number"),
        ("System.Boolean", "true or false"),
        ("System.IO.FileInfo", "a file path"),
        ("System.IO.DirectoryInfo", "a folder path"),
    ];

    /// <summary>Warns on stderr when a context window goes past what the model was trained on.</summary>
    internal static void WarnIfBeyondTraining(int context, int trained)
    {
        if (trained > 0 && context > trained)
        {
            Console.Error.WriteLine($"tq: warning: --ctx {context} is beyond the model's trained context of {trained} tokens; output past {trained} tokens is unreliable.");
        }
    }

    private static bool IsUserError(Exception ex) => ex is GgufFormatException or FileNotFoundException or DirectoryNotFoundException
        or NotSupportedException or ArgumentException or InvalidDataException or KeyNotFoundException or InvalidCastException or InvalidOperationException;
}
