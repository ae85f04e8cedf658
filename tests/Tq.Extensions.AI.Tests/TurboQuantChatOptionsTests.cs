using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tq.Core.Cache;
using Tq.Core.Gguf;
using Tq.Extensions.AI.ToolCalling;
using Tq.Testing;

namespace Tq.Extensions.AI.Tests;

public sealed class TurboQuantChatOptionsTests : IDisposable
{
    private readonly string _temp = Path.Combine(Path.GetTempPath(), "tq-options-" + Guid.NewGuid().ToString("N"));

    public TurboQuantChatOptionsTests() => Directory.CreateDirectory(_temp);

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    public static TheoryData<string, Action<TurboQuantChatOptions>> InvalidSettings => new()
    {
        { "BitsK", o => o.BitsK = 5 },
        { "BitsK", o => o.BitsK = float.NaN },
        { "BitsV", o => o.BitsV = 1 },
        { "SinkTokens", o => o.SinkTokens = -1 },
        { "RecentWindow", o => o.RecentWindow = -1 },
        { "BoundaryLayers", o => o.BoundaryLayers = -2 },
        { "ContextSize", o => o.ContextSize = -1 },
        { "Threads", o => o.Threads = -1 },
        { "MaxKvCacheBytes", o => o.MaxKvCacheBytes = -1 },
        { "MaxConcurrentSessions", o => o.MaxConcurrentSessions = 0 },
        { "ToolCallFormat", o => o.ToolCallFormat = (ToolCallFormat)99 },
        { "ChatTemplate", o => o.ChatTemplate = "  " },
        { "Temperature", o => o.Temperature = -0.5f },
        { "Temperature", o => o.Temperature = float.PositiveInfinity },
        { "TopP", o => o.TopP = 0 },
        { "TopK", o => o.TopK = -1 },
        { "MinP", o => o.MinP = 1.5f },
        { "RepetitionPenalty", o => o.RepetitionPenalty = 0 },
        { "MaxOutputTokens", o => o.MaxOutputTokens = 0 },
        { "ModelPath is required", o => o.ModelPath = null },
        { "ModelPath: Model 'no-such-model.gguf' was not found", o => o.ModelPath = "no-such-model.gguf" },
    };

    [Fact]
    public void Constructor_Defaults_AreTheDocumentedOnes()
    {
        var o = new TurboQuantChatOptions();

        Assert.Equal((4f, 2f, 4, 14, 0, false, false), (o.BitsK, o.BitsV, o.SinkTokens, o.RecentWindow, o.BoundaryLayers, o.PreRopeKeys, o.UseQjl));
        Assert.Equal((0, 0, 4, 0L, false), (o.ContextSize, o.Threads, o.MaxConcurrentSessions, o.MaxKvCacheBytes, o.EagerLoad));
        Assert.Equal(ToolCallFormat.Auto, o.ToolCallFormat);
        Assert.Null(o.ModelPath);
        Assert.Null(o.ChatTemplate);
        Assert.Null(o.Seed);
    }

    [Theory]
    [InlineData(2f, 2f)]
    [InlineData(2.5f, 3.5f)]
    [InlineData(3f, 4f)]
    [InlineData(8f, 8f)]
    [InlineData(16f, 16f)]
    public void Validate_RealModelAndAllowedBits_Succeeds(float bitsK, float bitsV)
    {
        var options = new TurboQuantChatOptions { ModelPath = TestPaths.Model("tq-chat-5m-f16.gguf"), BitsK = bitsK, BitsV = bitsV };

        ValidateOptionsResult result = new TurboQuantChatOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Validate_InvalidSetting_FailsNamingIt(string expected, Action<TurboQuantChatOptions> change)
    {
        var options = new TurboQuantChatOptions { ModelPath = TestPaths.Model("tq-chat-5m-f16.gguf"), ModelCacheDirectory = _temp };
        change(options);

        ValidateOptionsResult result = new TurboQuantChatOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CachedModelName_ResolvesThroughTheModelCache()
    {
        string cached = Path.Combine(_temp, "owner", "repo", "stories.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(cached)!);
        File.Copy(TestPaths.Model("stories260K.gguf"), cached);

        foreach (string name in (string[])["hf:owner/repo/stories.gguf", "owner/repo/stories.gguf", "stories.gguf"])
        {
            ValidateOptionsResult result = new TurboQuantChatOptionsValidator().Validate(null, new() { ModelPath = name, ModelCacheDirectory = _temp, ContextSize = 512 });
            Assert.True(result.Succeeded, result.FailureMessage);
        }
    }

    [Fact]
    public void Validate_NotAGgufFile_FailsClearly()
    {
        string path = Path.Combine(_temp, "model.gguf");
        File.WriteAllText(path, "<html>404</html> and more text to pass the length check");

        ValidateOptionsResult result = new TurboQuantChatOptionsValidator().Validate(null, new() { ModelPath = path });

        Assert.Contains("is not a usable GGUF model", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ContextTooLargeForMemory_Fails()
    {
        var options = new TurboQuantChatOptions { ModelPath = TestPaths.Model("tq-chat-5m-f16.gguf"), ContextSize = 1_000_000 };

        ValidateOptionsResult result = new TurboQuantChatOptionsValidator(() => 64L << 20).Validate(null, options);

        Assert.Contains("too large for this machine's memory", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("1000000 tokens", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KvCacheAboveMaxKvCacheBytes_Fails()
    {
        var options = new TurboQuantChatOptions { ModelPath = TestPaths.Model("tq-chat-5m-f16.gguf"), MaxKvCacheBytes = 100_000 };

        ValidateOptionsResult result = new TurboQuantChatOptionsValidator().Validate(null, options);

        Assert.Contains("more than MaxKvCacheBytes", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void SessionKvBytes_Fp16_EqualsLlamaCppF16CacheSize()
    {
        // llama.cpp: n_layer x n_ctx x (n_embd_k_gqa + n_embd_v_gqa) x 2 bytes = 6 x 1024 x (128 + 128) x 2.
        long? bytes = SessionKvBytes(new TurboQuantChatOptions { BitsK = 16, BitsV = 16 });

        Assert.Equal(6L * 1024 * 256 * 2, bytes);
    }

    [Fact]
    public void SessionKvBytes_K4V2Defaults_CountsSinksWindowAndNorms()
    {
        long? bytes = SessionKvBytes(new TurboQuantChatOptions());

        // No boundary layers by default; 6 layers x 2 KV heads: 18 FP16 rows (4 sinks + 14 window, 256 bytes a head)
        // fixed, and 1020 rows past the sinks of (4 x 64 + 16) + (2 x 64 + 16) bits = 52 bytes a head (the window's
        // rows are allocated packed too, as the cache does).
        long heads = 6L * 2;
        Assert.Equal((heads * 18 * 256) + (heads * 1020 * 52), bytes);
    }

    [Fact]
    public void SessionKvBytes_TwoBoundaryLayers_CountsThemInQ8()
    {
        long? bytes = SessionKvBytes(new TurboQuantChatOptions { BoundaryLayers = 2, RecentWindow = 32 });

        // 4 boundary layers in Q8_0 (2 x 34-byte blocks for each of key and value: 136 bytes a head), 2 middle layers
        // of 52 bytes a head; every layer keeps 36 FP16 rows (4 sinks + 32 window); 2 KV heads.
        long fixedBytes = 6L * 2 * 36 * 256;
        long perToken = 2L * ((4 * 136) + (2 * 52));
        Assert.Equal(fixedBytes + (1020 * perToken), bytes);
    }

    [Fact]
    public void SessionKvBytes_EqualsTheLoadedSessionsCache()
    {
        var options = new TurboQuantChatOptions { ModelPath = TestPaths.Model("tq-chat-5m-f16.gguf"), BoundaryLayers = 1, ContextSize = 256 };
        using var engine = new TurboQuantEngine(options);
        engine.Load();

        // One session is alive after loading: the pool's first, which measured the real cache.
        Assert.Equal(SessionKvBytes(options), engine.GetStatistics().KvCacheBytes);
    }

    [Fact]
    public void Bind_Configuration_SetsEveryProperty()
    {
        IConfiguration config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TurboQuant:ModelPath"] = "hf:owner/repo/model.gguf",
            ["TurboQuant:ModelCacheDirectory"] = "/models",
            ["TurboQuant:BitsK"] = "3.5",
            ["TurboQuant:BitsV"] = "2.5",
            ["TurboQuant:SinkTokens"] = "8",
            ["TurboQuant:RecentWindow"] = "64",
            ["TurboQuant:BoundaryLayers"] = "1",
            ["TurboQuant:PreRopeKeys"] = "false",
            ["TurboQuant:UseQjl"] = "true",
            ["TurboQuant:ContextSize"] = "8192",
            ["TurboQuant:Threads"] = "6",
            ["TurboQuant:MaxConcurrentSessions"] = "2",
            ["TurboQuant:MaxKvCacheBytes"] = "4294967296",
            ["TurboQuant:EagerLoad"] = "true",
            ["TurboQuant:ChatTemplate"] = "chatml",
            ["TurboQuant:ToolCallFormat"] = "Mistral",
            ["TurboQuant:Seed"] = "42",
            ["TurboQuant:Temperature"] = "0.2",
            ["TurboQuant:TopP"] = "0.9",
            ["TurboQuant:TopK"] = "20",
            ["TurboQuant:MinP"] = "0.1",
            ["TurboQuant:RepetitionPenalty"] = "1.1",
            ["TurboQuant:MaxOutputTokens"] = "256",
        }).Build();

        TurboQuantChatOptions o = config.GetSection("TurboQuant").Get<TurboQuantChatOptions>()!;

        Assert.Equal(("hf:owner/repo/model.gguf", "/models", 3.5f, 2.5f, 8, 64, 1), (o.ModelPath, o.ModelCacheDirectory, o.BitsK, o.BitsV, o.SinkTokens, o.RecentWindow, o.BoundaryLayers));
        Assert.Equal((false, true, 8192, 6, 2, 4294967296L, true), (o.PreRopeKeys, o.UseQjl, o.ContextSize, o.Threads, o.MaxConcurrentSessions, o.MaxKvCacheBytes, o.EagerLoad));
        Assert.Equal(("chatml", ToolCallFormat.Mistral, (long?)42), (o.ChatTemplate, o.ToolCallFormat, o.Seed));
        Assert.Equal((0.2f, 0.9f, 20, 0.1f, 1.1f, (int?)256), (o.Temperature, o.TopP, o.TopK, o.MinP, o.RepetitionPenalty, o.MaxOutputTokens));
    }

    [Theory]
    [InlineData(null, 16f, 16f, KvCacheKind.F16)]
    [InlineData(null, 8f, 8f, KvCacheKind.Q8_0)]
    [InlineData(null, 4f, 2f, KvCacheKind.TurboQuant)]
    [InlineData(null, 8f, 4f, KvCacheKind.TurboQuant)]
    [InlineData(KvCacheKind.F16, 4f, 2f, KvCacheKind.F16)]
    [InlineData(KvCacheKind.F16, 16f, 16f, KvCacheKind.F16)]
    [InlineData(KvCacheKind.Q8_0, 4f, 2f, KvCacheKind.Q8_0)]
    [InlineData(KvCacheKind.TurboQuant, 8f, 8f, KvCacheKind.TurboQuant)]
    public void KvCacheKind_ExplicitOrFromTheBits_SelectsTheCache(KvCacheKind? kind, float bitsK, float bitsV, KvCacheKind expected)
    {
        var options = new TurboQuantChatOptions { ModelPath = TestPaths.Model("tq-chat-5m-f16.gguf"), KvCacheKind = kind, BitsK = bitsK, BitsV = bitsV };

        ValidateOptionsResult result = new TurboQuantChatOptionsValidator().Validate(null, options);
        KvCacheOptions cache = TurboQuantEngine.CreateKvCacheOptions(options);

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal(expected, cache.Kind);
        if (expected == KvCacheKind.TurboQuant)
        {
            Assert.Equal((bitsK, bitsV), ((float)cache.BitsK, (float)cache.BitsV));
        }
    }

    [Theory]
    [InlineData(KvCacheKind.TurboQuant, 16f, 16f, "16 bits is the F16 cache: set KvCacheKind to F16")]
    [InlineData(KvCacheKind.F16, 3f, 2f, "KvCacheKind F16, which uses no bit setting")]
    [InlineData(KvCacheKind.Q8_0, 16f, 16f, "KvCacheKind Q8_0, which uses no bit setting")]
    [InlineData((KvCacheKind)7, 4f, 2f, "KvCacheKind is 7; it must be F16, Q8_0 or TurboQuant")]
    public void Validate_KvCacheKindContradictingTheBits_FailsNamingBoth(KvCacheKind kind, float bitsK, float bitsV, string expected)
    {
        var options = new TurboQuantChatOptions { ModelPath = TestPaths.Model("tq-chat-5m-f16.gguf"), KvCacheKind = kind, BitsK = bitsK, BitsV = bitsV };

        ValidateOptionsResult result = new TurboQuantChatOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_KvCacheKind_FromConfiguration()
    {
        IConfiguration config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TurboQuant:KvCacheKind"] = "Q8_0",
        }).Build();

        TurboQuantChatOptions o = config.GetSection("TurboQuant").Get<TurboQuantChatOptions>()!;

        Assert.Equal(KvCacheKind.Q8_0, o.KvCacheKind);
        Assert.Equal(KvCacheKind.Q8_0, TurboQuantEngine.CreateKvCacheOptions(o).Kind);
    }

    [Fact]
    public void OptionsValue_BoundWithValidator_ThrowsOptionsValidationExceptionOnBadBits()
    {
        IConfiguration config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TurboQuant:ModelPath"] = TestPaths.Model("tq-chat-5m-f16.gguf"),
            ["TurboQuant:BitsK"] = "5",
        }).Build();
        var services = new ServiceCollection();
        services.AddOptions<TurboQuantChatOptions>().Bind(config.GetSection("TurboQuant"));
        services.AddSingleton<IValidateOptions<TurboQuantChatOptions>, TurboQuantChatOptionsValidator>();
        using ServiceProvider provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TurboQuantChatOptions>>().Value);

        Assert.Contains("BitsK is 5; allowed values are 2, 2.5, 3, 3.5, 4, 8, 16", ex.Message, StringComparison.Ordinal);
    }

    private static long? SessionKvBytes(TurboQuantChatOptions options)
    {
        using GgufFile file = GgufFile.Open(TestPaths.Model("tq-chat-5m-f16.gguf"));
        return TurboQuantChatOptionsValidator.SessionKvBytes(file, GgufModelInfo.FromFile(file), options);
    }
}
