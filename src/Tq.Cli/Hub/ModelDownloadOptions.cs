using Tq.Core.Hub;

namespace Tq.Cli.Hub;

/// <summary>Options of <see cref="ModelDownloader.DownloadAsync(ModelReference, ModelDownloadOptions?, IProgress{ModelDownloadProgress}?, CancellationToken)"/>.</summary>
internal sealed class ModelDownloadOptions
{
    /// <summary>
    /// The expected SHA-256 of the file (64 hex digits). When null, a SHA-256 the server states in <c>X-Linked-Etag</c>
    /// or <c>ETag</c> (as Hugging Face does for LFS files) is checked instead; without either, no checksum is verified.
    /// </summary>
    public string? Sha256 { get; set; }

    /// <summary>How many times a dropped connection or a server error (5xx, 408, 429) is resumed before giving up (default 3).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The pause before the first retry, doubled on each further retry (default 500 ms).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);
}
