using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>DI registration: options in code and from <c>appsettings.json</c>, keyed clients, middleware, startup validation.</summary>
public sealed class TurboQuantServiceCollectionExtensionsTests
{
    private static string ModelPath => TestPaths.Model(ChatModels.F16).Replace("\\", "\\\\", StringComparison.Ordinal);

    [Fact]
    public async Task AddTurboQuantChat_FromAppSettingsSection_ResolvesWorkingPipeline()
    {
        string json = $$"""{ "TurboQuant": { "ModelPath": "{{ModelPath}}", "BitsK": 4, "BitsV": "2", "ContextSize": 512, "Threads": 2, "Temperature": 0 } }""";
        IConfiguration configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var services = new ServiceCollection();
        services.AddLogging();

        services.AddTurboQuantChat(configuration.GetSection("TurboQuant")).UseFunctionInvocation().UseOpenTelemetry().UseLogging();
        await using ServiceProvider provider = services.BuildServiceProvider();
        IChatClient chat = provider.GetRequiredService<IChatClient>();
        ChatResponse response = await chat.GetResponseAsync("Hello! Who are you?", new ChatOptions { MaxOutputTokens = 16 });

        TurboQuantEngine engine = provider.GetRequiredService<TurboQuantEngine>();
        Assert.Same(engine, chat.GetService<TurboQuantEngine>());
        Assert.NotNull(chat.GetService<FunctionInvokingChatClient>());
        Assert.Equal(512, engine.ContextLength);
        Assert.Equal(Tq.Core.Cache.KvCacheKind.TurboQuant, engine.KvCache.Kind);
        Assert.NotEmpty(response.Text);
        Assert.Equal("tq-chat-5m-f16", response.ModelId);
    }

    [Fact]
    public async Task AddKeyedTurboQuantChat_TwoModels_ResolveIndependently()
    {
        var services = new ServiceCollection();
        services.AddKeyedTurboQuantChat("chat", o => { o.ModelPath = TestPaths.Model(ChatModels.F16); o.Threads = 1; });
        services.AddKeyedTurboQuantChat("stories", o => { o.ModelPath = TestPaths.Model("tq-stories-5m-q8_0.gguf"); o.Threads = 1; o.ChatTemplate = "chatml"; });
        await using ServiceProvider provider = services.BuildServiceProvider();

        IChatClient chat = provider.GetRequiredKeyedService<IChatClient>("chat");
        IChatClient stories = provider.GetRequiredKeyedService<IChatClient>("stories");

        Assert.Equal("tq-chat-5m-f16", chat.GetService<ChatClientMetadata>()!.DefaultModelId);
        Assert.Equal("tq-stories-5m-q8_0", stories.GetService<ChatClientMetadata>()!.DefaultModelId);
        Assert.NotSame(provider.GetRequiredKeyedService<TurboQuantEngine>("chat"), provider.GetRequiredKeyedService<TurboQuantEngine>("stories"));
        Assert.Null(provider.GetService<IChatClient>());
    }

    [Fact]
    public async Task AddTurboQuantChat_InvalidOptions_FailHostStartWithClearMessage()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddTurboQuantChat(o => { o.ModelPath = "no-such-model.gguf"; o.BitsK = 5; });
        using IHost host = builder.Build();

        OptionsValidationException e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(e.Failures, f => f.Contains("BitsK is 5", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("no-such-model.gguf", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddTurboQuantChat_EagerLoad_LoadsAtHostStart()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddTurboQuantChat(o => { o.ModelPath = TestPaths.Model(ChatModels.F16); o.EagerLoad = true; o.Threads = 1; });
        using IHost host = builder.Build();

        await host.StartAsync();
        TurboQuantEngine engine = host.Services.GetRequiredService<TurboQuantEngine>();

        Assert.True(engine.IsLoaded);
        await host.StopAsync();
    }

    [Fact]
    public void AddTurboQuantChat_LazyByDefault_DoesNotLoadUntilFirstRequest()
    {
        var services = new ServiceCollection();
        services.AddTurboQuantChat(o => o.ModelPath = TestPaths.Model(ChatModels.F16));
        using ServiceProvider provider = services.BuildServiceProvider();

        _ = provider.GetRequiredService<IChatClient>();

        Assert.False(provider.GetRequiredService<TurboQuantEngine>().IsLoaded);
    }
}
