using System.Runtime.InteropServices;
using Tq.Cli.Hub;
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
        var command = CliOptions.Command("pull", "Download a GGUF model into the local cache (resumable, checksum-verified).", sha, cacheDir, baseUrl, retries);
        command.Arguments.Add(model);
        command.SetAction((parse, cancellationToken) => CliErrors.RunAsync(async () =>
        {
            string? endpoint = parse.GetValue(baseUrl);
            var reference = ModelReference.Parse(parse.GetValue(model)!, string.IsNullOrEmpty(endpoint) ? null : ModelStore.ParseHubEndpoint(endpoint));
            var store = new ModelStore(parse.GetValue(cacheDir)?.FullName);
            using var downloader = new ModelDownloader(store);

            // Ctrl+C must stop the transfer cleanly (the partial file stays for a resume) rather than kill the process.
            using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
            {
                context.Cancel = true;
                interrupted.Cancel();
            });
            using var bar = new DownloadProgressBar(Console.Error, reference.FileName);
            try
            {
                string path = await downloader.DownloadAsync(
                    reference,
                    new ModelDownloadOptions { Sha256 = parse.GetValue(sha), MaxRetries = parse.GetValue(retries) },
                    bar,
                    interrupted.Token).ConfigureAwait(false);
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
}
