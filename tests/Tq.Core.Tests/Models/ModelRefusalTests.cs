using Tq.Core.Gguf;
using Tq.Core.Models;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Models;

/// <summary>
/// Anything in a file that would change the math and that no definition reads is refused at load with one line that
/// names it: a tensor, a metadata key, a RoPE scaling type, a setting a definition cannot honour. Each case copies a
/// real architecture model and changes one thing.
/// </summary>
public sealed class ModelRefusalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tq-refusal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_UnknownTensor_RefusedNamingIt()
    {
        string path = Rewrite("arch-qwen3.gguf", b => b.AddTensor("blk.1.attn_gate.weight", Tq.Core.Tensors.GgmlType.F32, [256, 256]));
        AssertRefused(path, "blk.1.attn_gate.weight");
    }

    [Fact]
    public void Load_OutputTensorOnGemma2_RefusedBecauseGemma2AlwaysTiesTheHead()
    {
        string path = Rewrite("arch-gemma2.gguf", b => b.AddTensor("output.weight", Tq.Core.Tensors.GgmlType.F32, [256, 512]));
        AssertRefused(path, "output.weight");
    }

    [Fact]
    public void Load_UnknownRopeScalingType_RefusedNamingIt()
    {
        string path = Rewrite("arch-qwen2-yarn.gguf", replace: ("qwen2.rope.scaling.type", "dynamic"));
        AssertRefused(path, "'dynamic'");
    }

    [Fact]
    public void Load_UnknownMetadataKey_RefusedNamingIt()
    {
        string path = Rewrite("arch-gemma3.gguf", b => b.Add("gemma3.attention.chunk_size", GgufValueType.UInt32, 128u));
        AssertRefused(path, "gemma3.attention.chunk_size");
    }

    [Fact]
    public void Load_YarnSettingNoDefinitionReads_Refused()
    {
        string path = Rewrite("arch-qwen2-yarn.gguf", b => b.Add("qwen2.rope.scaling.yarn_log_multiplier", GgufValueType.Float32, 0.1f));
        AssertRefused(path, "qwen2.rope.scaling.yarn_log_multiplier");
    }

    [Fact]
    public void Load_ExpertsOnADenseArchitecture_Refused()
    {
        string path = Rewrite("arch-qwen3.gguf", b => b.Add("qwen3.expert_count", GgufValueType.UInt32, 8u));
        AssertRefused(path, "qwen3.expert_count");
    }

    [Fact]
    public void Load_ExpertWeightsNotNormalized_RefusedForQwen3Moe()
    {
        string path = Rewrite("arch-qwen3moe.gguf", b => b.Add("qwen3moe.expert_weights_norm", GgufValueType.Bool, false));
        AssertRefused(path, "qwen3moe.expert_weights_norm");
    }

    [Fact]
    public void Load_ExpertCountZeroOnDense_Accepted()
    {
        // llama.cpp reads expert_count for every architecture; 0 means dense and changes nothing.
        string path = Rewrite("arch-llama3.gguf", b => b.Add("llama.expert_count", GgufValueType.UInt32, 0u));
        using Model model = Model.Load(path, new ModelOptions { Threads = 1 });
        Assert.Equal("llama", model.ArchitectureName);
    }

    [Fact]
    public void Load_UnknownArchitecture_RefusedListingSupported()
    {
        string path = Rewrite("arch-llama3.gguf", replace: ("general.architecture", "mamba"));
        var ex = Assert.Throws<NotSupportedException>(() => Model.Load(path));
        Assert.Contains("'mamba'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("gemma3", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    private static void AssertRefused(string path, string named)
    {
        var ex = Assert.Throws<NotSupportedException>(() => Model.Load(path, new ModelOptions { Threads = 1 }));
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    private string Rewrite(string model, Action<GgufBuilder>? add = null, (string Key, object Value)? replace = null) =>
        ArchModelFiles.Rewrite(_dir, model, add, replace);
}
