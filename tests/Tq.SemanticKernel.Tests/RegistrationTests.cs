using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Tq.Core.Cache;
using Tq.Extensions.AI;
using Tq.Testing;

namespace Tq.SemanticKernel.Tests;

/// <summary>Registration through the kernel builder and the service collection.</summary>
public sealed class RegistrationTests
{
    [Fact]
    public async Task AddTurboQuantChatCompletion_TwoServiceIdsWithDifferentBits_CoexistInOneKernel()
    {
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddTurboQuantChatCompletion(o => SkModels.Configure(o, 4, 2), "tq");
        builder.AddTurboQuantChatCompletion(o => SkModels.Configure(o, 16, 16), "f16");
        Kernel kernel = builder.Build();
        using var services = (IDisposable)kernel.Services;

        var tq = (TurboQuantChatCompletionService)kernel.GetRequiredService<IChatCompletionService>("tq");
        var f16 = (TurboQuantChatCompletionService)kernel.GetRequiredService<IChatCompletionService>("f16");
        foreach (string id in new[] { "tq", "f16" })
        {
            FunctionResult result = await kernel.InvokePromptAsync(
                "Tell me a story.", new KernelArguments(new TurboQuantPromptExecutionSettings { ServiceId = id, Temperature = 0, MaxTokens = 8 }));
            Assert.False(string.IsNullOrWhiteSpace(result.GetValue<string>()));
        }

        Assert.NotSame(tq.Engine, f16.Engine);
        Assert.Equal(KvCacheKind.TurboQuant, tq.Engine.KvCache.Kind);
        Assert.Equal(KvCacheKind.F16, f16.Engine.KvCache.Kind);
        Assert.Equal(4f, tq.Attributes["bits_k"]);
        TurboQuantEngineStatistics tqStats = tq.GetStatistics(), f16Stats = f16.GetStatistics();
        Assert.Equal(f16Stats.F16KvCacheBytesPerToken, f16Stats.KvCacheBytesPerToken);
        Assert.True(tqStats.KvCacheBytesPerToken < f16Stats.KvCacheBytesPerToken);
        Assert.Same(tq.ChatClient, kernel.Services.GetRequiredKeyedService<IChatClient>("tq"));
    }

    [Fact]
    public void AddTurboQuantChatCompletion_SameOptionsAsAddTurboQuantChat_SharesOneEngine()
    {
        var services = new ServiceCollection();
        services.AddTurboQuantChat(o => SkModels.Configure(o));
        services.AddTurboQuantChatCompletion(o => SkModels.Configure(o), "sk");
        services.AddTurboQuantChatCompletion(o => SkModels.Configure(o, 16, 16), "sk-f16");
        using ServiceProvider provider = services.BuildServiceProvider();

        TurboQuantEngine meai = provider.GetRequiredService<TurboQuantEngine>();
        var sk = provider.GetRequiredKeyedService<TurboQuantChatCompletionService>("sk");

        Assert.Same(meai, sk.Engine);
        Assert.Same(meai, provider.GetRequiredKeyedService<IChatClient>("sk").GetService<TurboQuantEngine>());
        Assert.Same(sk, provider.GetRequiredKeyedService<IChatCompletionService>("sk"));
        Assert.NotSame(meai, provider.GetRequiredKeyedService<TurboQuantChatCompletionService>("sk-f16").Engine);
        Assert.Equal(2, provider.GetRequiredService<TurboQuantEngineRegistry>().Count);
    }

    [Fact]
    public void AddTurboQuantChatCompletion_Configuration_BindsEngineAndContextOptions()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TurboQuant:ModelPath"] = TestPaths.Model(SkModels.Q8),
            ["TurboQuant:BitsK"] = "16",
            ["TurboQuant:BitsV"] = "16",
            ["TurboQuant:ContextSize"] = "512",
            ["TurboQuant:OverflowPolicy"] = "TruncateOldest",
            ["TurboQuant:ReservedOutputTokens"] = "32",
        }).Build();
        var services = new ServiceCollection();
        services.AddTurboQuantChatCompletion(configuration.GetSection("TurboQuant"));
        using ServiceProvider provider = services.BuildServiceProvider();

        var service = Assert.IsType<TurboQuantChatCompletionService>(provider.GetRequiredService<IChatCompletionService>());

        Assert.Equal(ContextOverflowPolicy.TruncateOldest, service.ContextOptions.OverflowPolicy);
        Assert.Equal(32, service.ContextOptions.ReservedOutputTokens);
        Assert.Equal(KvCacheKind.F16, service.Engine.KvCache.Kind);
        Assert.Equal(512, service.Engine.ContextLength);
    }

    [Fact]
    public void AddTurboQuantChatCompletion_MissingModel_FailsWithTheValidatorsMessage()
    {
        var services = new ServiceCollection();
        services.AddTurboQuantChatCompletion(o => o.ModelPath = Path.Combine(TestPaths.RepoRoot, "no-such-model.gguf"));
        using ServiceProvider provider = services.BuildServiceProvider();

        Exception e = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<IChatCompletionService>());

        Assert.Contains("no-such-model.gguf", e.ToString(), StringComparison.Ordinal);
    }
}
