using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tq.Cli.Tests.Hub;

/// <summary>
/// A minimal HTTP/1.1 file server on 127.0.0.1 whose misbehaviours the tests choose: ignoring Range, closing the
/// connection in the middle of a body, stalling, redirecting with Hugging Face's <c>X-Linked-Etag</c>.
/// </summary>
internal sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _drops;

    public LoopbackHttpServer()
    {
        _listener.Start();
        BaseUri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri BaseUri { get; }

    /// <summary>The files served, by absolute path (<c>/owner/repo/resolve/main/file.gguf</c>).</summary>
    public ConcurrentDictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Paths answered with a 302 to another path, carrying <see cref="LinkedEtag"/>.</summary>
    public ConcurrentDictionary<string, string> Redirects { get; } = new(StringComparer.Ordinal);

    public bool SupportsRange { get; set; } = true;

    /// <summary>The number of responses, from the next one, that close the connection after <see cref="DropAfter"/> body bytes.</summary>
    public int Drops { get => _drops; set => _drops = value; }

    public int DropAfter { get; set; }

    /// <summary>When set, every response stops sending after this many body bytes and waits until the server is disposed.</summary>
    public int? StallAfter { get; set; }

    public string? ETag { get; set; }

    public string? LinkedEtag { get; set; }

    /// <summary>Each request's path and Range header (empty when absent).</summary>
    public ConcurrentQueue<(string Path, string Range)> Requests { get; } = new();

    public Uri Url(string path) => new(BaseUri, path.TrimStart('/'));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        try
        {
            await _accepting.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                connections.Add(ServeAsync(client));
            }
        }
        finally
        {
            await Task.WhenAll(connections).ConfigureAwait(false);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                (string path, string range) = await ReadRequestAsync(stream).ConfigureAwait(false);
                Requests.Enqueue((path, range));
                await RespondAsync(stream, path, range).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away (a cancelled download) or the server is stopping.
            }
        }
    }

    private async Task RespondAsync(NetworkStream stream, string path, string range)
    {
        if (Redirects.TryGetValue(path, out string? target))
        {
            await WriteHeadAsync(stream, "302 Found", [("Location", target), ("X-Linked-Etag", LinkedEtag is null ? null : $"\"{LinkedEtag}\""), ("Content-Length", "0")]).ConfigureAwait(false);
            return;
        }

        if (!Files.TryGetValue(path, out byte[]? file))
        {
            byte[] body = Encoding.ASCII.GetBytes("Entry not found");
            await WriteHeadAsync(stream, "404 Not Found", [("Content-Length", body.Length.ToString(CultureInfo.InvariantCulture))]).ConfigureAwait(false);
            await stream.WriteAsync(body, _stop.Token).ConfigureAwait(false);
            return;
        }

        long start = 0;
        string status = "200 OK";
        var headers = new List<(string, string?)> { ("ETag", ETag is null ? null : $"\"{ETag}\""), ("Accept-Ranges", SupportsRange ? "bytes" : null) };
        if (SupportsRange && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1], CultureInfo.InvariantCulture);
            if (start >= file.Length)
            {
                await WriteHeadAsync(stream, "416 Range Not Satisfiable", [.. headers, ("Content-Range", $"bytes */{file.Length}"), ("Content-Length", "0")]).ConfigureAwait(false);
                return;
            }

            status = "206 Partial Content";
            headers.Add(("Content-Range", $"bytes {start}-{file.Length - 1}/{file.Length}"));
        }

        headers.Add(("Content-Length", (file.Length - start).ToString(CultureInfo.InvariantCulture)));
        await WriteHeadAsync(stream, status, headers).ConfigureAwait(false);
        int length = (int)(file.Length - start);
        if (Interlocked.Decrement(ref _drops) >= 0)
        {
            await stream.WriteAsync(file.AsMemory((int)start, Math.Min(DropAfter, length)), _stop.Token).ConfigureAwait(false);
            return;
        }

        if (StallAfter is int stall)
        {
            await stream.WriteAsync(file.AsMemory((int)start, Math.Min(stall, length)), _stop.Token).ConfigureAwait(false);
            await Task.Delay(Timeout.Infinite, _stop.Token).ConfigureAwait(false);
        }

        await stream.WriteAsync(file.AsMemory((int)start, length), _stop.Token).ConfigureAwait(false);
    }

    private async Task WriteHeadAsync(NetworkStream stream, string status, IEnumerable<(string Name, string? Value)> headers)
    {
        var sb = new StringBuilder($"HTTP/1.1 {status}\r\nConnection: close\r\n");
        foreach ((string name, string? value) in headers)
        {
            if (value is not null)
            {
                sb.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(sb.Append("\r\n").ToString()), _stop.Token).ConfigureAwait(false);
    }

    private async Task<(string Path, string Range)> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        byte[] one = new byte[1];
        while (head.Count < 4 || !(head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, _stop.Token).ConfigureAwait(false) == 0)
            {
                throw new IOException("The client closed the connection before the end of the request.");
            }

            head.Add(one[0]);
        }

        string[] lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
        string path = lines[0].Split(' ')[1];
        string range = lines.Skip(1).FirstOrDefault(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))?["Range:".Length..].Trim() ?? string.Empty;
        return (path, range);
    }
}
