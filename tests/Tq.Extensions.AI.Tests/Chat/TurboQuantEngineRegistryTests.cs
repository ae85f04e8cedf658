namespace Tq.Extensions.AI.Tests.Chat;

public sealed class TurboQuantEngineRegistryTests
{
    private static TurboQuantChatOptions Options(float bits = 16, string model = ChatModels.F16) =>
        new() { ModelPath = Tq.Testing.TestPaths.Model(model), Threads = 2, ContextSize = 256, BitsK = bits, BitsV = bits };

    [Fact]
    public void GetOrCreate_EqualOptions_ReturnsOneEngine()
    {
        using var registry = new TurboQuantEngineRegistry();
        TurboQuantChatOptions options = Options();

        TurboQuantEngine first = registry.GetOrCreate(options);
        options.BitsK = 4; // the registry copied the options: changing the caller's instance changes nothing
        TurboQuantEngine second = registry.GetOrCreate(Options());

        Assert.Same(first, second);
        Assert.Equal(16f, first.Options.BitsK);
        Assert.Equal(1, registry.Count);
    }

    [Theory]
    [InlineData(8f, ChatModels.F16)]
    [InlineData(16f, "tq-chat-5m-q8_0.gguf")]
    public void GetOrCreate_DifferentBitsOrModel_ReturnsAnotherEngine(float bits, string model)
    {
        using var registry = new TurboQuantEngineRegistry();

        TurboQuantEngine first = registry.GetOrCreate(Options());
        TurboQuantEngine second = registry.GetOrCreate(Options(bits, model));

        Assert.NotSame(first, second);
        Assert.Equal(2, registry.Count);
    }

    [Fact]
    public void Dispose_DisposesEnginesAndRefusesNewOnes()
    {
        var registry = new TurboQuantEngineRegistry();
        TurboQuantEngine engine = registry.GetOrCreate(Options());
        engine.Load();

        registry.Dispose();

        Assert.Throws<ObjectDisposedException>(() => engine.Model);
        Assert.Throws<ObjectDisposedException>(() => registry.GetOrCreate(Options()));
    }
}
