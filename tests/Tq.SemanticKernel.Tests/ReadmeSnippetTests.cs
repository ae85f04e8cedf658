using Microsoft.SemanticKernel;
using Tq.Testing;

namespace Tq.SemanticKernel.Tests;

/// <summary>The snippet of docs/semantic-kernel.md ("Quick start"), verbatim but for the model path.</summary>
public sealed class ReadmeSnippetTests
{
    [Fact]
    public async Task QuickStart_RunsAsDocumented()
    {
        string modelPath = TestPaths.Model(SkModels.Q8);

        // --- snippet start ---
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddTurboQuantChatCompletion(o =>
        {
            o.ModelPath = modelPath;   // a .gguf file, or a model pulled with `tq pull`
            o.BitsK = 4;               // TurboQuant keys: 4 bits
            o.BitsV = 2;               // TurboQuant values: 2 bits
        });
        builder.Plugins.AddFromType<WeatherPlugin>("weather");
        Kernel kernel = builder.Build();

        var agent = new TurboQuantAgent(kernel) { Instructions = "You are a helpful assistant." };
        ChatMessageContent answer = await agent.InvokeAsync("What is the weather in Oslo?");
        TurboQuantKvCacheUsage kv = agent.GetKvCacheUsage();
        Console.WriteLine($"{answer.Content} ({kv.Tokens} tokens: {kv.KvCacheBytes:N0} B of KV cache, FP16 would take {kv.F16KvCacheBytes:N0} B)");
        // --- snippet end ---

        Assert.NotNull(answer.Content);
        Assert.Contains(agent.History, m => m.Role == Microsoft.SemanticKernel.ChatCompletion.AuthorRole.Tool);
        Assert.True(kv.KvCacheBytes < kv.F16KvCacheBytes);
        (kernel.Services as IDisposable)?.Dispose();
    }
}
