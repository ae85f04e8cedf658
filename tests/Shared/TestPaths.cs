namespace Tq.Testing;

/// <summary>
/// Locates the repository root and the shared data folder (<c>../shared</c> beside the repository) that holds
/// the real models, reference outputs and corpora. A missing folder is an error, never a reason to skip:
/// CI must run every test that needs a model.
/// </summary>
internal static class TestPaths
{
    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    /// <summary>The folder that holds <c>TqConnector.sln</c>.</summary>
    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>The shared data folder: <c>$TQ_SHARED_DIR</c> when set, otherwise <c>../shared</c> from the repository root.</summary>
    public static string Shared
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable("TQ_SHARED_DIR");
            string path = string.IsNullOrEmpty(overridden) ? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared")) : overridden;
            if (!Directory.Exists(path))
            {
                throw new DirectoryNotFoundException($"The shared data folder '{path}' does not exist. Tests need ../shared beside the repository (or TQ_SHARED_DIR).");
            }

            return path;
        }
    }

    /// <summary>A file under <c>shared/models</c>; throws when it is missing.</summary>
    public static string Model(string fileName) => RequireFile(Path.Combine(Shared, "models", fileName));

    /// <summary>A file under <c>shared/models/vocab</c>; throws when it is missing.</summary>
    public static string Vocab(string fileName) => RequireFile(Path.Combine(Shared, "models", "vocab", fileName));

    /// <summary>A file under <c>shared/reference</c>; throws when it is missing.</summary>
    public static string Reference(params string[] parts) => RequireFile(Path.Combine([Shared, "reference", .. parts]));

    /// <summary>A file under <c>shared/corpora</c>; throws when it is missing.</summary>
    public static string Corpus(params string[] parts) => RequireFile(Path.Combine([Shared, "corpora", .. parts]));

    /// <summary>A file under <c>shared/templates</c>; throws when it is missing.</summary>
    public static string Template(string fileName) => RequireFile(Path.Combine(Shared, "templates", fileName));

    private static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"Required test data '{path}' is missing.", path);

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TqConnector.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"TqConnector.sln was not found above '{AppContext.BaseDirectory}'.");
    }
}
