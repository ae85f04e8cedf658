using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Tq.Core.Gguf;
using Tq.Core.Hub;

namespace Tq.Cli.Hub;

/// <summary>
/// Downloads GGUF files into a <see cref="ModelStore"/>: into <c>file.gguf.partial</c> with HTTP Range resume (restarting
/// cleanly when the server ignores Range), SHA-256 verification, a GGUF validity check, then an atomic rename.
/// Cancellation or a connection lost after the retries leaves the partial file, so the next call resumes.
/// </summary>
/// <remarks>Two processes downloading the same file at the same time are not coordinated.</remarks>
internal sealed class ModelDownloader : IDisposable
{
    private const int MaxRedirects = 10;
    private const int BufferSize = 1 << 20;

    private readonly HttpClient _http;
    private readonly ModelStore _store;

    /// <summary>Creates a downloader into <paramref name="store"/>.</summary>
    /// <param name="store">The cache folder.</param>
    /// <param name="handler">The HTTP handler (tests); a handler that does not follow redirects by itself when null, so the
    /// <c>X-Linked-Etag</c> of the first response (which Hugging Face sends on its redirect) is seen.</param>
    public ModelDownloader(ModelStore store, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("tq", typeof(ModelDownloader).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    /// <summary>Downloads a model unless it is already cached, and returns its path.</summary>
    /// <param name="model">What to download.</param>
    /// <param name="options">Checksum and retry options.</param>
    /// <param name="progress">Receives the bytes on disk as they grow.</param>
    /// <param name="cancellationToken">Stops the download, leaving a resumable partial file.</param>
    /// <returns>The full path of the verified file in the cache.</returns>
    /// <exception cref="HttpRequestException">The server answered with an error (404: the file does not exist), or the
    /// connection failed more than <see cref="ModelDownloadOptions.MaxRetries"/> times.</exception>
    /// <exception cref="InvalidDataException">The SHA-256 does not match (the partial file is deleted).</exception>
    /// <exception cref="GgufFormatException">The downloaded file is not a valid GGUF file (it is deleted).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the partial file stays for a resume.</exception>
    public async Task<string> DownloadAsync(ModelReference model, ModelDownloadOptions? options = null, IProgress<ModelDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ModelDownloadOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRetries, nameof(options));
        string? expected = NormalizeSha256(options.Sha256);
        string final = _store.GetPath(model);
        if (File.Exists(final))
        {
            if (expected is not null && await ComputeSha256Async(final, cancellationToken).ConfigureAwait(false) is string actual && actual != expected)
            {
                throw new InvalidDataException($"'{final}' is already cached but its SHA-256 is {actual}, not {expected}. Delete it to download it again.");
            }

            return final;
        }

        // The folders this call creates are removed again if it fails with nothing in them (a cancelled download keeps
        // its partial file, and so its folders, for a resume).
        string directory = Path.GetDirectoryName(final)!;
        List<string> created = [];
        for (string? d = directory; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d))
        {
            created.Add(d);
        }

        Directory.CreateDirectory(directory);
        string partial = final + ModelStore.PartialSuffix;
        try
        {
            string? serverSha = null;
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    serverSha = await TransferAsync(model.Uri, partial, progress, cancellationToken).ConfigureAwait(false) ?? serverSha;
                    break;
                }
                catch (Exception ex) when (IsTransient(ex) && attempt < options.MaxRetries && !cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(options.RetryDelay * (1 << Math.Min(attempt, 10)), cancellationToken).ConfigureAwait(false);
                }
            }

            string? check = expected ?? serverSha;
            if (check is not null)
            {
                string actual = await ComputeSha256Async(partial, cancellationToken).ConfigureAwait(false);
                if (actual != check)
                {
                    File.Delete(partial);
                    throw new InvalidDataException(
                        $"The SHA-256 of '{model.Uri}' is {actual}, not the expected {check} ({(expected is null ? "stated by the server" : "given")}). The partial download was deleted.");
                }
            }

            try
            {
                using GgufFile file = GgufFile.Open(partial);
            }
            catch (GgufFormatException ex)
            {
                File.Delete(partial);
                throw new GgufFormatException($"'{model.Uri}' is not a valid GGUF file ({ex.Message}); the download was deleted.", ex);
            }

            File.Move(partial, final, overwrite: true);
            return final;
        }
        catch
        {
            RemoveEmpty(created);
            throw;
        }
    }

    private static void RemoveEmpty(List<string> directories)
    {
        foreach (string directory in directories)
        {
            try
            {
                if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
                {
                    Directory.Delete(directory);
                }
            }
            catch (IOException)
            {
                // Someone else is using the folder now: leave it.
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    /// <summary>Appends the rest of the file to <paramref name="partial"/>; returns the SHA-256 the server stated, if any.</summary>
    private async Task<string?> TransferAsync(Uri uri, string partial, IProgress<ModelDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        (HttpResponseMessage response, string? sha) = await SendAsync(uri, have, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            {
                // The partial file is as long as the whole file (complete), or the file changed: start again.
                if (response.Content.Headers.ContentRange?.Length == have)
                {
                    return sha;
                }

                File.Delete(partial);
                throw new IOException($"The server refused to resume '{uri}' at byte {have}; restarting from the beginning.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException(
                    response.StatusCode == HttpStatusCode.NotFound
                        ? $"'{uri}' was not found (HTTP 404). Check the owner, repository and file name."
                        : string.Create(CultureInfo.InvariantCulture, $"Downloading '{uri}' failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}."),
                    null,
                    response.StatusCode);
            }

            long start = 0;
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                start = response.Content.Headers.ContentRange?.From ?? -1;
                if (start != have)
                {
                    File.Delete(partial);
                    throw new IOException(string.Create(CultureInfo.InvariantCulture, $"The server resumed '{uri}' at byte {start}, not {have}; restarting from the beginning."));
                }
            }

            long? total = response.Content.Headers.ContentRange?.Length
                ?? (response.Content.Headers.ContentLength is long length ? start + length : null);
            using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);

            // A 200 answer to a Range request means the server ignored Range: the body is the whole file again.
            using var file = new FileStream(partial, start > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.Asynchronous);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                long position = start;
                progress?.Report(new ModelDownloadProgress(position, total, start));
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    position += read;
                    progress?.Report(new ModelDownloadProgress(position, total, start));
                }

                if (total is long expectedLength && position != expectedLength)
                {
                    throw new IOException(string.Create(CultureInfo.InvariantCulture, $"The connection to '{uri}' closed after {position:N0} of {expectedLength:N0} bytes."));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return sha;
    }

    private async Task<(HttpResponseMessage Response, string? Sha256)> SendAsync(Uri uri, long rangeFrom, CancellationToken cancellationToken)
    {
        string? sha = null;
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (rangeFrom > 0)
            {
                request.Headers.Range = new RangeHeaderValue(rangeFrom, null);
            }

            string? token = Environment.GetEnvironmentVariable("HF_TOKEN");
            if (!string.IsNullOrEmpty(token) && hop == 0 && uri.Host == ModelStore.DefaultHubEndpoint.Host)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            sha ??= Sha256FromHeaders(response);
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is Uri location)
            {
                response.Dispose();
                if (hop >= MaxRedirects)
                {
                    throw new HttpRequestException($"Downloading '{uri}' was redirected more than {MaxRedirects} times.");
                }

                uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                continue;
            }

            return (response, sha);
        }
    }

    private static string? Sha256FromHeaders(HttpResponseMessage response)
    {
        foreach (string name in (ReadOnlySpan<string>)["X-Linked-Etag", "ETag"])
        {
            if (response.Headers.TryGetValues(name, out IEnumerable<string>? values))
            {
                string value = values.First().Trim();
                value = value.StartsWith("W/", StringComparison.Ordinal) ? value[2..] : value;
                if (TryNormalizeSha256(value.Trim('"'), out string? sha))
                {
                    return sha;
                }
            }
        }

        return null;
    }

    private static bool IsTransient(Exception ex) => ex switch
    {
        HttpRequestException http => http.StatusCode is null or >= HttpStatusCode.InternalServerError or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        IOException => true,
        _ => false,
    };

    internal static string? NormalizeSha256(string? sha256)
    {
        if (string.IsNullOrWhiteSpace(sha256))
        {
            return null;
        }

        return TryNormalizeSha256(sha256.Trim(), out string? normalized)
            ? normalized
            : throw new ArgumentException($"'{sha256}' is not a SHA-256: expected 64 hexadecimal digits.", nameof(sha256));
    }

    private static bool TryNormalizeSha256(string value, out string? sha)
    {
        sha = value.Length == 64 && value.All(char.IsAsciiHexDigit) ? value.ToLowerInvariant() : null;
        return sha is not null;
    }

    internal static async Task<string> ComputeSha256Async(string path, CancellationToken cancellationToken)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        byte[] hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }
}
