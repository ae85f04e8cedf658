using Tq.Core.Models;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Models;

public sealed class ModelLoadTests
{
    [Fact]
    public void Load_RandomLlama2_RunsAndGivesFiniteLogits()
    {
        using Model model = Model.Load(TestPaths.Model("llama-2-tiny-random.gguf"), new ModelOptions { Threads = 1 });
        using var session = model.CreateSession(new() { ContextLength = 16 });
        session.Evaluate([1, 100, 200, 300]);
        Assert.Equal(32000, session.Logits.Length);
        Assert.All(session.Logits.ToArray(), l => Assert.True(float.IsFinite(l)));
    }

    [Fact]
    public void ForName_Unsupported_ListsSupported()
    {
        var ex = Assert.Throws<NotSupportedException>(() => ModelArchitecture.ForName("mamba"));
        Assert.Contains("llama", ex.Message, StringComparison.Ordinal);
        Assert.Contains("qwen2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_VocabularyOnlyFile_ThrowsNamingTheTensor()
    {
        var ex = Assert.ThrowsAny<Exception>(() => Model.Load(TestPaths.Vocab("ggml-vocab-llama-spm.gguf")));
        Assert.True(ex is InvalidDataException or KeyNotFoundException, ex.ToString());
    }
}
