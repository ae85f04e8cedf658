// A bounded soak of the OpenAI-compatible endpoint (not part of CI): hosts Tq.AspNetCore on a loopback port in this
// process and drives it with a seeded mix of streaming and plain chats, tool calls, client cancellations, abrupt
// disconnects and invalid requests for a fixed time, then prints requests, errors, p50/p95 latency and RSS over time.
//   nice -n 10 dotnet run -c Release --project benchmarks/Tq.Soak -- --duration 180 --clients 4
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tq.Extensions.AI;
using Tq.Soak;

SoakOptions options = SoakOptions.Parse(args);
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.ClearProviders();
builder.Services.AddTurboQuantChat(o =>
{
    o.ModelPath = options.Model;
    o.Threads = options.Threads;
    o.MaxConcurrentSessions = options.Sessions;
    o.ContextSize = 1024;
    o.EagerLoad = true;
});
await using WebApplication app = builder.Build();
app.MapTurboQuantEndpoints();
await app.StartAsync();
var address = new Uri(app.Urls.First());
TurboQuantEngine engine = app.Services.GetRequiredService<TurboQuantEngine>();

Console.WriteLine(Invariant($"soak: {engine.ModelId} on {address}, {options.Clients} clients, {options.Sessions} sessions, {options.Threads} threads, {options.Duration.TotalSeconds:F0} s, seed {options.Seed}"));
Console.WriteLine("| t (s) | requests | errors | cancelled | disconnected | refused (400) | p50 ms | p95 ms | RSS MiB | GC heap MiB | busy sessions | KV MiB |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");

var stats = new SoakStatistics();
using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };
var clock = Stopwatch.StartNew();
using var stop = new CancellationTokenSource(options.Duration);
Task[] clients = Enumerable.Range(0, options.Clients).Select(i => Task.Run(() => RunClientAsync(i))).ToArray();
while (!stop.IsCancellationRequested)
{
    try
    {
        await Task.Delay(options.ReportEvery, stop.Token);
    }
    catch (OperationCanceledException)
    {
    }

    Report();
}

await Task.WhenAll(clients);
await Task.Delay(500); // the last disconnects reach the server
Report();
TurboQuantEngineStatistics end = engine.GetStatistics();
using HttpResponseMessage health = await http.GetAsync(new Uri("health", UriKind.Relative));
Console.WriteLine(Invariant($"total: {stats.Requests} requests, {stats.Errors} errors, p50 {stats.Percentile(0.5, all: true):F0} ms, p95 {stats.Percentile(0.95, all: true):F0} ms; {end.GeneratedTokens} tokens generated; after the run: {end.BusySessions} busy sessions, /health {(int)health.StatusCode}"));
foreach (string error in stats.ErrorSamples)
{
    Console.WriteLine("error: " + error);
}

return stats.Errors == 0 && end.BusySessions == 0 ? 0 : 1;

void Report()
{
    TurboQuantEngineStatistics s = engine.GetStatistics();
    using var process = Process.GetCurrentProcess();
    (double p50, double p95) = (stats.Percentile(0.5, all: false), stats.Percentile(0.95, all: false));
    stats.NextInterval();
    Console.WriteLine(Invariant(
        $"| {clock.Elapsed.TotalSeconds:F0} | {stats.Requests} | {stats.Errors} | {stats.Cancelled} | {stats.Disconnected} | {stats.Refused} | {p50:F0} | {p95:F0} | {process.WorkingSet64 / 1048576.0:F1} | {GC.GetTotalMemory(false) / 1048576.0:F1} | {s.BusySessions} | {s.KvCacheBytes / 1048576.0:F2} |"));
}

async Task RunClientAsync(int client)
{
    var random = new Random(options.Seed + client);
    while (!stop.IsCancellationRequested)
    {
        SoakRequest request = SoakRequest.Next(random);
        long start = Stopwatch.GetTimestamp();
        try
        {
            string? problem = request.Kind switch
            {
                SoakKind.Disconnect => await DisconnectAsync(request.Body),
                SoakKind.Cancel => await CancelAsync(request.Body, TimeSpan.FromMilliseconds(random.Next(20, 300))),
                _ => await CompleteAsync(request),
            };
            stats.Record(request.Kind, Stopwatch.GetElapsedTime(start).TotalMilliseconds, problem);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or SocketException)
        {
            stats.Record(request.Kind, Stopwatch.GetElapsedTime(start).TotalMilliseconds, $"{request.Kind}: {e.GetType().Name}: {e.Message}");
        }
    }
}

async Task<string?> CompleteAsync(SoakRequest request)
{
    using var content = new StringContent(request.Body, Encoding.UTF8, "application/json");
    using HttpResponseMessage response = await http.PostAsync(new Uri("v1/chat/completions", UriKind.Relative), content);
    string text = await response.Content.ReadAsStringAsync();
    int status = (int)response.StatusCode;
    return request.Kind switch
    {
        SoakKind.Invalid => status == 400 ? null : $"invalid request answered {status}",
        _ when status != 200 => $"{request.Kind} answered {status}: {text[..Math.Min(200, text.Length)]}",
        _ when request.Stream && !text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal) => $"{request.Kind} stream did not end with [DONE]",
        _ => null,
    };
}

async Task<string?> CancelAsync(string body, TimeSpan after)
{
    using var cancel = new CancellationTokenSource(after);
    try
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri("v1/chat/completions", UriKind.Relative)) { Content = content };
        using HttpResponseMessage response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));
        while (await reader.ReadLineAsync(cancel.Token) is not null)
        {
        }

        return null; // finished before the client gave up
    }
    catch (OperationCanceledException) when (cancel.IsCancellationRequested)
    {
        return null;
    }
}

async Task<string?> DisconnectAsync(string body)
{
    using var socket = new TcpClient();
    await socket.ConnectAsync(address.Host, address.Port);
    NetworkStream stream = socket.GetStream();
    byte[] payload = Encoding.UTF8.GetBytes(body);
    await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /v1/chat/completions HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/json\r\nContent-Length: {payload.Length}\r\n\r\n"));
    await stream.WriteAsync(payload);
    using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
    string? line = await reader.ReadLineAsync();
    if (line is null || !line.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
    {
        return $"disconnect request answered '{line}'";
    }

    while ((line = await reader.ReadLineAsync()) is not null && !line.StartsWith("data: ", StringComparison.Ordinal))
    {
    }

    socket.Client.Close(); // gone after the first event
    return null;
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
