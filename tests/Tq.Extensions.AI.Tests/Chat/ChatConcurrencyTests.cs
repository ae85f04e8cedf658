using Microsoft.Extensions.AI;
using Tq.Core.Cache;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>Concurrent requests, the session bound and the KV-cache kinds on the real tq-chat-5m model.</summary>
public sealed class ChatConcurrencyTests
{
    private static readonly string[] s_questions =
    [
        "Tell me a story about a cat.",
        "Hi, my name is Tom.",
        "What is the weather in Paris?",
        "Tell me a story about a red ball.",
        "Hello! Who are you?",
        "Can you help me?",
        "Tell me a story about a big tree.",
        "What is your favorite color?",
    ];

    [Fact]
    public async Task GetResponseAsync_EightConcurrentRequests_EachEqualsTheRequestAlone()
    {
        var options = new ChatOptions { Temperature = 0.8f, Seed = 11, MaxOutputTokens = 40 };
        var alone = new string[s_questions.Length];
        for (int i = 0; i < s_questions.Length; i++)
        {
            using TurboQuantChatClient single = ChatModels.CreateClient(o => o.MaxConcurrentSessions = 1);
            alone[i] = (await single.GetResponseAsync(s_questions[i], options)).Text;
        }

        // Two threads: the sessions share the model's worker pool, whose jobs interleave.
        using TurboQuantChatClient client = ChatModels.CreateClient(o =>
        {
            o.MaxConcurrentSessions = 8;
            o.Threads = 2;
        });
        ChatResponse[] together = await Task.WhenAll(s_questions.Select(q => Task.Run(() => client.GetResponseAsync(q, options))));

        Assert.Equal(alone, together.Select(r => r.Text));
        Assert.Equal(8, alone.Distinct().Count());
        Assert.All(together, r => Assert.NotNull(r.FinishReason));
        Assert.InRange(client.Engine.GetStatistics().LiveSessions, 1, 8);

        // Interleaved token by token: all eight sessions are busy at once and their steps alternate.
        var streams = s_questions.Select(q => client.GetStreamingResponseAsync(q, options).GetAsyncEnumerator()).ToArray();
        var texts = new System.Text.StringBuilder[streams.Length];
        var open = new bool[streams.Length];
        for (int i = 0; i < streams.Length; i++)
        {
            texts[i] = new System.Text.StringBuilder();
            open[i] = true;
        }

        int maxBusy = 0;
        while (open.Any(o => o))
        {
            for (int i = 0; i < streams.Length; i++)
            {
                if (open[i] && (open[i] = await streams[i].MoveNextAsync()))
                {
                    texts[i].Append(streams[i].Current.Text);
                }
            }

            maxBusy = Math.Max(maxBusy, client.Engine.GetStatistics().BusySessions);
        }

        foreach (IAsyncEnumerator<ChatResponseUpdate> stream in streams)
        {
            await stream.DisposeAsync();
        }

        Assert.Equal(8, maxBusy);
        Assert.Equal(alone, texts.Select(t => t.ToString()));
    }

    [Fact]
    public async Task GetResponseAsync_MoreRequestsThanSessions_WaitAndAllComplete()
    {
        using TurboQuantChatClient client = ChatModels.CreateClient(o => o.MaxConcurrentSessions = 2);
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 16 };
        var held = new List<IAsyncEnumerator<ChatResponseUpdate>>();
        for (int i = 0; i < 2; i++)
        {
            IAsyncEnumerator<ChatResponseUpdate> stream = client.GetStreamingResponseAsync("Tell me a story.", options).GetAsyncEnumerator();
            Assert.True(await stream.MoveNextAsync()); // holds a session
            held.Add(stream);
        }

        Task<ChatResponse[]> waiting = Task.WhenAll(s_questions.Select(q => Task.Run(() => client.GetResponseAsync(q, options))));
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        Assert.Equal((2, 2), (client.Engine.GetStatistics().LiveSessions, client.Engine.GetStatistics().BusySessions));
        foreach (IAsyncEnumerator<ChatResponseUpdate> stream in held)
        {
            await stream.DisposeAsync(); // gives the session back
        }

        ChatResponse[] responses = await waiting;

        Assert.All(responses, r => Assert.True(r.Usage!.OutputTokenCount > 0));
        TurboQuantEngineStatistics stats = client.Engine.GetStatistics();
        Assert.Equal(2, stats.MaxSessions);
        Assert.Equal(2, stats.LiveSessions);
        Assert.Equal(0, stats.BusySessions);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_WaitingForASession_CanBeCancelled()
    {
        using TurboQuantChatClient client = ChatModels.CreateClient(o => o.MaxConcurrentSessions = 1);
        var options = new ChatOptions { Temperature = 0.8f, Seed = 5, MaxOutputTokens = 64 };
        await using IAsyncEnumerator<ChatResponseUpdate> holder = client.GetStreamingResponseAsync("Tell me a story.", options).GetAsyncEnumerator();
        Assert.True(await holder.MoveNextAsync()); // the only session is now busy
        using var cts = new CancellationTokenSource();

        Task<ChatResponse> waiting = client.GetResponseAsync("Hello!", options, cts.Token);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Engine_MaxKvCacheBytes_BoundsTheSessions()
    {
        using TurboQuantChatClient client = ChatModels.CreateClient(o =>
        {
            o.MaxConcurrentSessions = 8;
            o.MaxKvCacheBytes = 7L * 1024 * 1024; // tq-chat-5m: 3 MiB of FP16 cache per 1,024-token session
        });

        await client.GetResponseAsync("Hi", new ChatOptions { MaxOutputTokens = 2 });

        Assert.Equal(2, client.Engine.GetStatistics().MaxSessions);
    }

    [Theory]
    [InlineData(16f, 16f, KvCacheKind.F16)]
    [InlineData(8f, 8f, KvCacheKind.Q8_0)]
    [InlineData(4f, 2f, KvCacheKind.TurboQuant)]
    [InlineData(3.5f, 3f, KvCacheKind.TurboQuant)]
    public async Task GetResponseAsync_EachCacheKind_AnswersAndReusesTheCache(float bitsK, float bitsV, KvCacheKind kind)
    {
        using TurboQuantChatClient client = ChatModels.CreateClient(o =>
        {
            o.BitsK = bitsK;
            o.BitsV = bitsV;
        });
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 32 };
        List<ChatMessage> history = [new(ChatRole.User, "Hi, my name is Lily.")];

        ChatResponse first = await client.GetResponseAsync(history, options);
        history.AddMessages(first);
        history.Add(new ChatMessage(ChatRole.User, "What is my name?"));
        ChatResponse second = await client.GetResponseAsync(history, options);

        TurboQuantEngineStatistics stats = client.Engine.GetStatistics();
        Assert.Equal(kind, stats.KvCacheKind);
        Assert.NotEmpty(first.Text);
        Assert.True(second.Usage!.CachedInputTokenCount >= first.Usage!.InputTokenCount);
        Assert.Equal(3072, stats.F16KvCacheBytesPerToken); // 6 layers × 2 KV heads × (64 + 64) × 2 bytes
        if (kind != KvCacheKind.F16)
        {
            Assert.True(stats.KvCacheBytesPerToken < stats.F16KvCacheBytesPerToken, $"{stats.KvCacheBytesPerToken} bytes/token");
        }
    }
}
