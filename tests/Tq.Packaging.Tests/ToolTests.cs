using System.ClientModel;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using OpenAI;
using OpenAI.Chat;
using Tq.Testing;

namespace Tq.Packaging.Tests;

/// <summary>The <c>tq</c> command installed from the feed with <c>dotnet tool install</c>, as a user gets it.</summary>
[Collection(PackageFeedGroup.Name)]
public sealed partial class ToolTests(PackageFeedFixture feed)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public void Run_InstalledTool_StreamsContinuation()
    {
        ProcessResult run = ProcessRunner.Run(feed.Tq, ["run", "-m", TestPaths.Model("tq-stories-5m-q8_0.gguf"), "-p", "Once upon a time", "-n", "16"], feed.Root, s_timeout)
            .EnsureSuccess();
        Assert.StartsWith("Once upon a time", run.StdOut, StringComparison.Ordinal);
        Assert.True(run.StdOut.Trim().Length > "Once upon a time".Length, $"tq run generated nothing: '{run.StdOut}'");
        Assert.Contains("decode 16 tokens", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_InstalledTool_AnswersTheOpenAIClient()
    {
        var start = new ProcessStartInfo(feed.Tq)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            UseShellExecute = false,
            WorkingDirectory = feed.Root,
        };
        foreach (string arg in new[] { "serve", "-m", TestPaths.Model("tq-chat-5m-q8_0.gguf"), "--host", "127.0.0.1", "--port", "0", "--ctx", "512", "--sessions", "1", "--model-id", "tq-chat" })
        {
            start.ArgumentList.Add(arg);
        }

        using Process server = Process.Start(start) ?? throw new InvalidOperationException("tq serve did not start.");
        Task<string> stderr = server.StandardError.ReadToEndAsync();
        try
        {
            // The first line names the address (port 0 lets the OS pick a free one).
            using var startup = new CancellationTokenSource(s_timeout);
            string banner = await server.StandardOutput.ReadLineAsync(startup.Token) ?? string.Empty;
            Match address = ServingAddress().Match(banner);
            Assert.True(address.Success, $"tq serve printed no address: '{banner}'\n{(server.HasExited ? await stderr : string.Empty)}");

            var client = new ChatClient("tq-chat", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(address.Groups[1].Value + "/v1") });
            var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0 };
            var text = new StringBuilder();
            int updates = 0;
            await foreach (StreamingChatCompletionUpdate update in client.CompleteChatStreamingAsync([new UserChatMessage("Tell me a story about a cat.")], options))
            {
                foreach (ChatMessageContentPart part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                    updates++;
                }
            }

            Assert.True(updates >= 2, $"the answer came in {updates} update(s)");
            Assert.False(string.IsNullOrWhiteSpace(text.ToString()));

            using var http = new HttpClient();
            using HttpResponseMessage health = await http.GetAsync(new Uri(address.Groups[1].Value + "/health"));
            Assert.True(health.IsSuccessStatusCode, $"/health answered {(int)health.StatusCode}");
        }
        finally
        {
            // Killed rather than signalled: `tq serve` does not yet stop on SIGTERM (reported to its branch).
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
            }
        }

        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(30)), "tq serve did not stop.");
    }

    [GeneratedRegex(@"serving \S+ on (http://\S+) ")]
    private static partial Regex ServingAddress();
}
