using System.Net;
using System.Security.Cryptography;
using Tq.Core.Gguf;
using Tq.Cli.Hub;
using Tq.Core.Hub;
using Tq.Testing;

namespace Tq.Cli.Tests.Hub;

/// <summary>Downloads the real stories260K.gguf from a loopback server that misbehaves in the ways the internet does.</summary>
public sealed class ModelDownloaderTests : IAsyncLifetime, IDisposable
{
    private const string FilePath = "/tq/tiny/resolve/main/stories260K.gguf";
    private static readonly byte[] s_model = File.ReadAllBytes(TestPaths.Model("stories260K.gguf"));
    private static readonly string s_sha256 = Convert.ToHexStringLower(SHA256.HashData(s_model));

    private readonly LoopbackHttpServer _server = new();
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "tq-hub-" + Guid.NewGuid().ToString("N"));
    private readonly ModelStore _store;
    private readonly ModelDownloader _downloader;
    private readonly ModelReference _reference;

    public ModelDownloaderTests()
    {
        _server.Files[FilePath] = s_model;
        _store = new ModelStore(_cache);
        _downloader = new ModelDownloader(_store);
        _reference = ModelReference.Parse("hf:tq/tiny/stories260K.gguf", _server.BaseUri);
    }

    private string FinalPath => Path.Combine(_cache, "tq", "tiny", "stories260K.gguf");

    private string PartialPath => FinalPath + ModelStore.PartialSuffix;

    private static ModelDownloadOptions NoWait(int retries = 3, string? sha = null) => new() { MaxRetries = retries, RetryDelay = TimeSpan.Zero, Sha256 = sha };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _downloader.Dispose();
        if (Directory.Exists(_cache))
        {
            Directory.Delete(_cache, recursive: true);
        }
    }

    [Fact]
    public async Task DownloadAsync_HuggingFaceRedirectWithLinkedEtag_VerifiesAndRenames()
    {
        _server.Redirects[FilePath] = "/cdn/stories260K.gguf";
        _server.Files["/cdn/stories260K.gguf"] = s_model;
        _server.LinkedEtag = s_sha256;
        var reports = new List<ModelDownloadProgress>();

        string path = await _downloader.DownloadAsync(_reference, NoWait(), new SyncProgress(reports));

        Assert.Equal(FinalPath, path);
        Assert.Equal(s_model, await File.ReadAllBytesAsync(path));
        Assert.False(File.Exists(PartialPath));
        Assert.Equal(new ModelDownloadProgress(s_model.Length, s_model.Length, 0), reports[^1]);
        Assert.Equal([FilePath, "/cdn/stories260K.gguf"], _server.Requests.Select(r => r.Path));
        using GgufFile file = GgufFile.Open(path);
        Assert.Equal("llama", file.Architecture);
    }

    [Fact]
    public async Task DownloadAsync_ConnectionDroppedMidBody_ResumesWithRange()
    {
        _server.Drops = 2;
        _server.DropAfter = 300_000;

        string path = await _downloader.DownloadAsync(_reference, NoWait(sha: s_sha256));

        Assert.Equal(s_model, await File.ReadAllBytesAsync(path));
        Assert.Equal(["", "bytes=300000-", "bytes=600000-"], _server.Requests.Select(r => r.Range));
    }

    [Fact]
    public async Task DownloadAsync_DroppedWithoutRetries_LeavesPartialThatTheNextCallResumes()
    {
        _server.Drops = 1;
        _server.DropAfter = 400_000;

        await Assert.ThrowsAnyAsync<IOException>(() => _downloader.DownloadAsync(_reference, NoWait(retries: 0)));
        Assert.Equal(400_000, new FileInfo(PartialPath).Length);
        Assert.False(File.Exists(FinalPath));

        string path = await _downloader.DownloadAsync(_reference, NoWait(retries: 0, sha: s_sha256));

        Assert.Equal(s_model, await File.ReadAllBytesAsync(path));
        Assert.Equal("bytes=400000-", _server.Requests.Last().Range);
    }

    [Fact]
    public async Task DownloadAsync_ServerIgnoresRange_RestartsFromTheBeginning()
    {
        _server.SupportsRange = false;
        Directory.CreateDirectory(Path.GetDirectoryName(PartialPath)!);
        await File.WriteAllBytesAsync(PartialPath, new byte[1000]);

        string path = await _downloader.DownloadAsync(_reference, NoWait(sha: s_sha256));

        Assert.Equal(s_model, await File.ReadAllBytesAsync(path));
        Assert.Equal("bytes=1000-", _server.Requests.Single().Range);
    }

    [Fact]
    public async Task DownloadAsync_PartialAlreadyComplete_FinishesOnRangeNotSatisfiable()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PartialPath)!);
        await File.WriteAllBytesAsync(PartialPath, s_model);

        string path = await _downloader.DownloadAsync(_reference, NoWait(sha: s_sha256));

        Assert.Equal(s_model, await File.ReadAllBytesAsync(path));
        Assert.Equal($"bytes={s_model.Length}-", _server.Requests.Single().Range);
    }

    [Fact]
    public async Task DownloadAsync_GivenChecksumMismatch_DeletesPartialAndFails()
    {
        string wrong = new('a', 64);

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => _downloader.DownloadAsync(_reference, NoWait(sha: wrong)));

        Assert.Contains(s_sha256, ex.Message, StringComparison.Ordinal);
        Assert.Contains(wrong, ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(PartialPath));
        Assert.False(File.Exists(FinalPath));
    }

    [Fact]
    public async Task DownloadAsync_ServerEtagMismatch_DeletesPartialAndFails()
    {
        _server.ETag = new string('0', 64);

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => _downloader.DownloadAsync(_reference, NoWait()));

        Assert.Contains("stated by the server", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(PartialPath));
    }

    [Fact]
    public async Task DownloadAsync_EtagNotASha256_IsIgnored()
    {
        _server.ETag = "5d41402abc4b2a76b9719d911017c592";

        string path = await _downloader.DownloadAsync(_reference, NoWait());

        Assert.Equal(s_model, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task DownloadAsync_NotFound_FailsClearlyWithoutRetrying()
    {
        var missing = ModelReference.Parse("hf:tq/tiny/missing.gguf", _server.BaseUri);

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => _downloader.DownloadAsync(missing, NoWait()));

        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Contains("not found (HTTP 404)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/tq/tiny/resolve/main/missing.gguf", ex.Message, StringComparison.Ordinal);
        Assert.Single(_server.Requests);
        Assert.False(File.Exists(_store.GetPath(missing) + ModelStore.PartialSuffix));
        Assert.False(Directory.Exists(Path.Combine(_cache, "tq")), "the folders created for the download are removed again");
        Assert.False(Directory.Exists(_cache));
    }

    [Fact]
    public async Task DownloadAsync_Cancelled_LeavesResumablePartial()
    {
        _server.StallAfter = 500_000;
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.BytesReceived >= 500_000)
            {
                cts.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _downloader.DownloadAsync(_reference, NoWait(), progress, cts.Token));

        Assert.Equal(500_000, new FileInfo(PartialPath).Length);
        Assert.False(File.Exists(FinalPath));
        _server.StallAfter = null;

        string path = await _downloader.DownloadAsync(_reference, NoWait(sha: s_sha256));

        Assert.Equal(s_model, await File.ReadAllBytesAsync(path));
        Assert.Equal("bytes=500000-", _server.Requests.Last().Range);
    }

    [Fact]
    public async Task DownloadAsync_NotAGgufFile_DeletesItAndFails()
    {
        byte[] html = "<html>not a model</html>"u8.ToArray();
        _server.Files[FilePath] = html;

        await Assert.ThrowsAsync<GgufFormatException>(() => _downloader.DownloadAsync(_reference, NoWait()));

        Assert.False(File.Exists(PartialPath));
        Assert.False(File.Exists(FinalPath));
        Assert.False(Directory.Exists(Path.GetDirectoryName(FinalPath)), "no empty folder is left behind");
    }

    [Fact]
    public async Task DownloadAsync_AlreadyCached_DoesNotDownloadAgain()
    {
        await _downloader.DownloadAsync(_reference, NoWait());
        int requests = _server.Requests.Count;

        string path = await _downloader.DownloadAsync(_reference, NoWait(sha: s_sha256));

        Assert.Equal(FinalPath, path);
        Assert.Equal(requests, _server.Requests.Count);
        await Assert.ThrowsAsync<InvalidDataException>(() => _downloader.DownloadAsync(_reference, NoWait(sha: new string('b', 64))));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")]
    public async Task DownloadAsync_BadSha256Option_ThrowsArgumentException(string sha)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _downloader.DownloadAsync(_reference, NoWait(sha: sha)));
        Assert.Empty(_server.Requests);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, out of order).</summary>
    private sealed class SyncProgress(Action<ModelDownloadProgress> report) : IProgress<ModelDownloadProgress>
    {
        public SyncProgress(List<ModelDownloadProgress> reports)
            : this(reports.Add)
        {
        }

        public void Report(ModelDownloadProgress value) => report(value);
    }
}
