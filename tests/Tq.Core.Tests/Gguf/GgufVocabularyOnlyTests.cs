using Tq.Core.Gguf;
using Tq.Testing;

namespace Tq.Core.Tests.Gguf;

/// <summary>llama.cpp's vocabulary-only GGUFs end right after the tensor infos, without data-section padding.</summary>
public sealed class GgufVocabularyOnlyTests
{
    public static TheoryData<string> Files => new(Directory.GetFiles(Path.Combine(TestPaths.Shared, "models", "vocab"), "*.gguf").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(Files))]
    public void Open_VocabularyOnlyFileWithoutPadding_ParsesWithNoTensors(string fileName)
    {
        using GgufFile file = GgufFile.Open(TestPaths.Vocab(fileName));

        Assert.Empty(file.Tensors);
        Assert.True(file.DataOffset <= file.FileSize);
        Assert.True(file.Metadata.TryGetValue("tokenizer.ggml.tokens", out GgufValue? tokens));
        Assert.True(tokens.Count > 1000);
    }
}
