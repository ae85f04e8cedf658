using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>
/// Shutdown while requests run, abandoned enumerators, and request checks that the library (not only the HTTP
/// endpoint) makes, on the real tq-chat-5m model.
/// </summary>
public sealed class EngineLifecycleTests
{
    private const int Streams = 4;

    [Fact]
    public async Task DisposeHost_WhileFourStreamsRun_EndsEveryStreamWithCancelledOrDisposed_100TimesInARow()
    {
        for (int round = 0; round < 100; round++)
        {
            HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddTurboQuantChat(o =>
            {
                o.ModelPath = TestPaths.Model(ChatModels.F16);
                o.Threads = 1;
                o.ContextSize = 256;
                o.BitsK = 4;
                o.BitsV = 2;
                o.MaxConcurrentSessions = Streams;
                o.Temperature = 1.5f;
                o.TopK = 0;
                o.EagerLoad = true;
            });
            IHost host = builder.Build();
            await host.StartAsync();
            IChatClient chat = host.Services.GetRequiredService<IChatClient>();
            using var started = new CountdownEvent(Streams);
            Task<Exception?>[] streams = Enumerable.Range(0, Streams).Select(i => Task.Run(() => StreamUntilStopped(chat, round * Streams + i, started))).ToArray();

            // Generous bounds: they catch a hang, and the shared CI machine can stall for a minute.
            Assert.True(started.Wait(TimeSpan.FromMinutes(3)), $"round {round}: the streams did not start");
            await Task.Delay(round % 3); // 0-2 ms: dispose lands at a different point of the decode loop each round
            host.Dispose();

            foreach (Exception? ended in await Task.WhenAll(streams).WaitAsync(TimeSpan.FromMinutes(3)))
            {
                Assert.True(ended is OperationCanceledException or ObjectDisposedException, $"round {round}: a stream ended with {ended?.GetType().Name ?? "no exception"}: {ended}");
            }
        }
    }

    [Fact]
    public async Task AbandonedEnumerator_WithoutDisposal_GivesItsSessionBack()
    {
        using TurboQuantChatClient client = ChatModels.CreateClient(o => o.MaxConcurrentSessions = 1);

        await StartAndAbandon(client);
        for (int i = 0; i < 3 && client.Engine.GetStatistics().BusySessions > 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        ChatResponse response = await client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 2 }, timeout.Token);
        Assert.Equal(2, response.Usage!.OutputTokenCount);
        Assert.Equal(0, client.Engine.GetStatistics().BusySessions);
    }

    [Fact]
    public async Task GetResponse_Cancelled_FreesTheSessionAtOnce()
    {
        using TurboQuantChatClient client = ChatModels.CreateClient(o => o.MaxConcurrentSessions = 1);
        using var cancellation = new CancellationTokenSource();
        int updates = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync("Hello! Who are you?", new ChatOptions { Temperature = 0 }, cancellation.Token))
            {
                updates++;
                await cancellation.CancelAsync(); // the next token is never generated
            }
        });

        TurboQuantEngineStatistics s = client.Engine.GetStatistics();
        Assert.Equal(1, updates);
        Assert.Equal((0, 1L, 1L), (s.BusySessions, s.CompletedRequests, s.GeneratedTokens));
    }

    [Theory]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    public async Task GetResponse_InvalidTemperature_ThrowsNamingIt(float temperature)
    {
        using TurboQuantChatClient client = ChatModels.CreateClient();

        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync("Hi", new ChatOptions { Temperature = temperature }));

        Assert.Contains("ChatOptions.Temperature", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponse_NoMessages_Throws()
    {
        using TurboQuantChatClient client = ChatModels.CreateClient();

        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([]));

        Assert.Contains("At least one chat message", e.Message, StringComparison.Ordinal);
    }

    private static async Task<Exception?> StreamUntilStopped(IChatClient chat, int seed, CountdownEvent started)
    {
        bool signalled = false;
        try
        {
            // A stream that ends by itself (end of text) is followed by another, until the host's disposal stops one.
            for (int request = 0; ; request++)
            {
                await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync("Tell me a long story.", new ChatOptions { Seed = seed * 1000 + request, MaxOutputTokens = 200 }))
                {
                    if (!signalled)
                    {
                        signalled = true;
                        started.Signal();
                    }
                }
            }
        }
        catch (Exception e)
        {
            if (!signalled)
            {
                started.Signal();
            }

            return e;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task StartAndAbandon(TurboQuantChatClient client)
    {
        IAsyncEnumerator<ChatResponseUpdate> updates = client.GetStreamingResponseAsync("Hello! Who are you?", new ChatOptions { Temperature = 0 }).GetAsyncEnumerator();
        Assert.True(await updates.MoveNextAsync());
        Assert.Equal(1, client.Engine.GetStatistics().BusySessions);

        // Dropped here without DisposeAsync, as a caller that stops reading and forgets the enumerator.
    }
}
