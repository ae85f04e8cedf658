namespace Tq.Core.Hub;

/// <summary>
/// The local folder of downloaded models, and the resolver that turns a model path or a cached model's name into a
/// file path. The folder is <c>$TQ_MODELS</c> when set, otherwise <c>~/.cache/tq/models</c>; a file
/// <c>hf:owner/repo/file.gguf</c> is stored as <c>owner/repo/file.gguf</c> in it.
/// </summary>
public sealed class ModelStore
{
    /// <summary>The environment variable that overrides the cache folder.</summary>
    public const string CacheDirectoryVariable = "TQ_MODELS";

    /// <summary>The environment variable that overrides the Hugging Face host (as in the <c>huggingface_hub</c> library).</summary>
    public const string HubEndpointVariable = "HF_ENDPOINT";

    /// <summary>The suffix of a download in progress; the file is renamed when complete and verified.</summary>
    public const string PartialSuffix = ".partial";

    /// <summary>Creates a store over a cache folder (which need not exist yet).</summary>
    /// <param name="cacheDirectory">The folder; <see cref="DefaultCacheDirectory"/> when null or empty.</param>
    public ModelStore(string? cacheDirectory = null)
    {
        CacheDirectory = Path.GetFullPath(string.IsNullOrEmpty(cacheDirectory) ? DefaultCacheDirectory : cacheDirectory);
    }

    /// <summary><c>$TQ_MODELS</c> when set, otherwise <c>~/.cache/tq/models</c>.</summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable(CacheDirectoryVariable);
            return string.IsNullOrEmpty(overridden)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "tq", "models")
                : overridden;
        }
    }

    /// <summary><c>$HF_ENDPOINT</c> when set, otherwise <c>https://huggingface.co/</c>.</summary>
    public static Uri DefaultHubEndpoint
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable(HubEndpointVariable);
            return string.IsNullOrEmpty(overridden) ? new Uri("https://huggingface.co/") : ParseHubEndpoint(overridden);
        }
    }

    /// <summary>The full path of the cache folder.</summary>
    public string CacheDirectory { get; }

    /// <summary>The full path a reference is (or will be) stored at.</summary>
    public string GetPath(ModelReference model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Path.Combine([CacheDirectory, .. model.CachePath.Split('/')]);
    }

    /// <summary>The complete <c>.gguf</c> files in the cache, ordered by name.</summary>
    public IReadOnlyList<CachedModel> List()
    {
        if (!Directory.Exists(CacheDirectory))
        {
            return [];
        }

        return Directory.EnumerateFiles(CacheDirectory, "*.gguf", SearchOption.AllDirectories)
            .Select(path => new CachedModel(Path.GetRelativePath(CacheDirectory, path).Replace(Path.DirectorySeparatorChar, '/'), path, new FileInfo(path).Length))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>
    /// Resolves a model path or a cached model's name to an existing file: a file path (absolute or relative to the
    /// current folder), <c>hf:owner/repo/file.gguf</c> or a URL already pulled, <c>owner/repo/file.gguf</c> inside the
    /// cache, or a bare <c>file.gguf</c> that exactly one cached model is named.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing matched; the message lists every place looked at.</exception>
    /// <exception cref="ArgumentException">The name is empty, or a bare file name matches several cached models.</exception>
    public string Resolve(string modelPathOrName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPathOrName);
        var looked = new List<string>();
        if (TryResolve(modelPathOrName, looked) is string path)
        {
            return path;
        }

        throw new FileNotFoundException(
            $"Model '{modelPathOrName}' was not found. Looked at: {string.Join("; ", looked)}. Download it with `tq pull hf:owner/repo/file.gguf` or give the path of a .gguf file.",
            modelPathOrName);
    }

    private string? TryResolve(string modelPathOrName, List<string> looked)
    {
        bool isReference = modelPathOrName.StartsWith(ModelReference.HuggingFacePrefix, StringComparison.OrdinalIgnoreCase)
            || modelPathOrName.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || modelPathOrName.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        if (isReference)
        {
            string cached = GetPath(ModelReference.Parse(modelPathOrName));
            looked.Add($"{cached} (the cached download)");
            return File.Exists(cached) ? cached : null;
        }

        string asPath = Path.GetFullPath(modelPathOrName);
        looked.Add($"{asPath} (as a file path)");
        if (File.Exists(asPath))
        {
            return asPath;
        }

        if (Path.IsPathRooted(modelPathOrName))
        {
            return null;
        }

        string[] segments = modelPathOrName.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0 || segments.Any(s => s is "." or ".."))
        {
            return null;
        }

        string inCache = Path.Combine([CacheDirectory, .. segments]);
        looked.Add($"{inCache} (in the model cache)");
        if (File.Exists(inCache))
        {
            return inCache;
        }

        if (segments.Length == 1)
        {
            looked.Add($"files named '{modelPathOrName}' under {CacheDirectory}");
            CachedModel[] matches = List().Where(m => string.Equals(Path.GetFileName(m.Path), modelPathOrName, StringComparison.Ordinal)).ToArray();
            if (matches.Length > 1)
            {
                throw new ArgumentException($"Model modelPathOrName '{modelPathOrName}' matches several cached models: {string.Join(", ", matches.Select(m => m.Name))}. Use owner/repo/{modelPathOrName}.", nameof(modelPathOrName));
            }

            return matches.Length == 1 ? matches[0].Path : null;
        }

        return null;
    }

    /// <summary>Parses a Hugging Face host URL (such as <c>https://huggingface.co</c> or a local mirror) into the base URL of <c>hf:</c> references.</summary>
    /// <exception cref="ArgumentException">The text is not an http(s) URL.</exception>
    public static Uri ParseHubEndpoint(string endpoint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        if (!Uri.TryCreate(endpoint.EndsWith('/') ? endpoint : endpoint + "/", UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The hub endpoint '{endpoint}' is not an http(s) URL.", nameof(endpoint));
        }

        return uri;
    }
}
