namespace TqConnector.Samples;

/// <summary>Finds the sample model so the samples run from the repository with one command, whatever the current folder.</summary>
internal static class SampleModels
{
    /// <summary>The model the samples use when none is given (relative to the repository root).</summary>
    public const string Default = "../shared/models/tq-chat-5m-q8_0.gguf";

    /// <summary>
    /// Returns <paramref name="path"/> unchanged when it names an existing file (or a cached model name); a relative path
    /// that does not exist from the current folder is looked up from each parent of the current folder and of the app folder.
    /// </summary>
    public static string Resolve(string? path)
    {
        path = string.IsNullOrWhiteSpace(path) ? Default : path;
        if (Path.IsPathRooted(path) || File.Exists(path))
        {
            return path;
        }

        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.GetFullPath(Path.Combine(dir.FullName, path));
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return path; // not a file: perhaps a model pulled with `tq pull`, which the model store resolves
    }
}
