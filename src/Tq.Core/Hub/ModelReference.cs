namespace Tq.Core.Hub;

/// <summary>
/// Where a model comes from and where it lives in the cache: <c>hf:owner/repo/file.gguf</c> (a Hugging Face file on the
/// <c>main</c> revision), a Hugging Face <c>.../owner/repo/resolve/revision/file.gguf</c> URL, or any other http(s) URL.
/// </summary>
public sealed class ModelReference
{
    /// <summary>The prefix of Hugging Face references.</summary>
    public const string HuggingFacePrefix = "hf:";

    private ModelReference(Uri uri, string cachePath)
    {
        Uri = uri;
        CachePath = cachePath;
    }

    /// <summary>The URL the file is downloaded from.</summary>
    public Uri Uri { get; }

    /// <summary>
    /// The file's path inside the cache folder, with <c>/</c> separators: <c>owner/repo/file.gguf</c> for Hugging Face
    /// files, <c>host/file.gguf</c> for other URLs.
    /// </summary>
    public string CachePath { get; }

    /// <summary>The file name, e.g. <c>model-Q4_K_M.gguf</c>.</summary>
    public string FileName => CachePath[(CachePath.LastIndexOf('/') + 1)..];

    /// <summary>Parses <c>hf:owner/repo/file.gguf</c> or an http(s) URL.</summary>
    /// <param name="reference">The reference as the user wrote it.</param>
    /// <param name="hubEndpoint">The Hugging Face host for <c>hf:</c> references; <see cref="ModelStore.DefaultHubEndpoint"/> when null.</param>
    /// <exception cref="ArgumentException">The reference is neither form, or holds an unsafe path segment.</exception>
    public static ModelReference Parse(string reference, Uri? hubEndpoint = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        hubEndpoint ??= ModelStore.DefaultHubEndpoint;
        if (reference.StartsWith(HuggingFacePrefix, StringComparison.OrdinalIgnoreCase))
        {
            string[] parts = reference[HuggingFacePrefix.Length..].Split('/');
            if (parts.Length < 3)
            {
                throw new ArgumentException($"'{reference}' is not a Hugging Face file reference: expected hf:owner/repo/file.gguf.", nameof(reference));
            }

            ValidateSegments(parts, reference);
            string file = string.Join('/', parts[2..]);
            var uri = new Uri(hubEndpoint, $"{Escape(parts[0])}/{Escape(parts[1])}/resolve/main/{string.Join('/', parts[2..].Select(Escape))}");
            return new ModelReference(uri, $"{parts[0]}/{parts[1]}/{file}");
        }

        if (!Uri.TryCreate(reference, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{reference}' is neither an http(s) URL nor a Hugging Face reference hf:owner/repo/file.gguf.", nameof(reference));
        }

        string[] segments = url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        if (segments.Length == 0)
        {
            throw new ArgumentException($"The URL '{reference}' names no file.", nameof(reference));
        }

        ValidateSegments(segments, reference);

        // https://host/owner/repo/resolve/revision/path/file.gguf is a Hugging Face file: cache it like hf:owner/repo/path/file.gguf.
        if (segments.Length >= 5 && segments[2] == "resolve")
        {
            return new ModelReference(url, $"{segments[0]}/{segments[1]}/{string.Join('/', segments[4..])}");
        }

        return new ModelReference(url, $"{url.Host}/{segments[^1]}");
    }

    /// <inheritdoc />
    public override string ToString() => $"{CachePath} ({Uri})";

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private static void ValidateSegments(string[] segments, string reference)
    {
        foreach (string segment in segments)
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.IndexOfAny(['\\', ':', '\0']) >= 0 || segment.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            {
                throw new ArgumentException($"'{reference}' holds an empty or unsafe path segment '{segment}'.", nameof(reference));
            }
        }
    }
}
