using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Tq.Core.Hub;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq pull &lt;url | hf:owner/repo/file.gguf&gt;</c>: downloads a GGUF model into the cache (<c>$TQ_MODELS</c> or
/// <c>~/.cache/tq/models</c>) with resume, SHA-256 verification and a GGUF validity check.
/// </summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "An http(s) URL or hf:owner/repo/file.gguf (a Hugging Face file on the main revision)." };
        var sha = new Option<string?>("--sha256") { Description = "The expected SHA-256 (64 hex digits); default: the one Hugging Face states for LFS files." };
        var cacheDir = new Option<DirectoryInfo?>("--cache-dir") { Description = "The model cache folder (default: $TQ_MODELS or ~/.cache/tq/models)." };
        var baseUrl = new Option<string?>("--base-url") { Description = "The Hugging Face host for hf: references (default: $HF_ENDPOINT or https://huggingface.co)." };
        var retries = new Option<int>("--retries") { Description = "How often a dropped connection is resumed before giving up.", DefaultValueFactory = _ => 3 };
        var command = new Command("pull", "Download a GGUF model into the local cache (resumable, checksum-verified).");
        command.Arguments.Add(model);
        command.Options.Add(sha);
        command.Options.Add(cacheDir);
        command.Options.Add(baseUrl);
        command.Options.Add(retries);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            string? endpoint = parse.GetValue(baseUrl);
            var reference = ModelReference.Parse(parse.GetValue(model)!, string.IsNullOrEmpty(endpoint) ? null : ModelStore.ParseHubEndpoint(endpoint));
            var store = new ModelStore(parse.GetValue(cacheDir)?.FullName);
            using var downloader = new ModelDownloader(store);
            using var bar = new ProgressBar(Console.Error, reference.FileName);
            try
            {
                string path = await downloader.DownloadAsync(
                    reference,
                    new ModelDownloadOptions { Sha256 = parse.GetValue(sha), MaxRetries = parse.GetValue(retries) },
                    bar,
                    cancellationToken).ConfigureAwait(false);
                bar.Finish();
                Console.Out.WriteLine(path);
                return 0;
            }
            catch (OperationCanceledException)
            {
                bar.Finish();
                Console.Error.WriteLine($"tq: cancelled; run the same command again to resume ({store.GetPath(reference)}{ModelStore.PartialSuffix}).");
                return 130;
            }
            catch (HttpRequestException ex)
            {
                bar.Finish();
                Console.Error.WriteLine($"tq: {ex.Message}");
                return 1;
            }
        }));
        return command;
    }

    /// <summary>A one-line progress bar on stderr, redrawn at most ten times a second (only the last line when stderr is redirected).</summary>
    private sealed class ProgressBar(TextWriter output, string name) : IProgress<ModelDownloadProgress>, IDisposable
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly bool _interactive = !Console.IsErrorRedirected;
        private ModelDownloadProgress _last;
        private long _lastDrawn = -1;
        private bool _drawn;

        public void Report(ModelDownloadProgress value)
        {
            _last = value;
            long now = _clock.ElapsedMilliseconds;
            if (_interactive && (_lastDrawn < 0 || now - _lastDrawn >= 100 || value.BytesReceived == value.TotalBytes))
            {
                _lastDrawn = now;
                output.Write('\r' + Line(value));
                _drawn = true;
            }
        }

        public void Finish()
        {
            if (_drawn || (!_interactive && _last.BytesReceived > 0))
            {
                output.Write((_interactive ? "\r" : string.Empty) + Line(_last) + Environment.NewLine);
            }

            _drawn = false;
        }

        public void Dispose() => _clock.Stop();

        private string Line(ModelDownloadProgress p)
        {
            double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
            string rate = InfoCommand.FormatBytes((long)((p.BytesReceived - p.ResumedFrom) / seconds)) + "/s";
            string resumed = p.ResumedFrom > 0 ? $", resumed at {InfoCommand.FormatBytes(p.ResumedFrom)}" : string.Empty;
            if (p.TotalBytes is not long total || total <= 0)
            {
                return $"{name} {InfoCommand.FormatBytes(p.BytesReceived)} {rate}{resumed}";
            }

            double fraction = Math.Clamp(p.BytesReceived / (double)total, 0, 1);
            int filled = (int)(fraction * 30);
            return string.Create(CultureInfo.InvariantCulture,
                $"{name} [{new string('#', filled)}{new string('.', 30 - filled)}] {fraction * 100,5:F1}% {InfoCommand.FormatBytes(p.BytesReceived)} / {InfoCommand.FormatBytes(total)} {rate}{resumed}  ");
        }
    }
}
