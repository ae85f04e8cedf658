using System.Collections.Concurrent;
using System.Text;
using Tq.Core.Gguf;
using Tq.Core.Tokenization;
using Tq.Testing;

namespace Tq.Core.Tests.Tokenization;

/// <summary>
/// llama.cpp's tokenizer test vectors (<c>ggml-vocab-*.gguf.inp/.out</c>), read exactly as <c>test-tokenizer-0</c>
/// reads them: the whole <c>.inp</c> file split on <c>"\n__ggml_vocab_test__\n"</c> (a trailing empty piece is not a
/// test), and one line of space-separated ids per text in <c>.out</c>.
/// </summary>
internal static class VocabTestVectors
{
    /// <summary>Every vocabulary llama.cpp ships test vectors for in <c>../shared/models/vocab</c>.</summary>
    public static readonly string[] Supported =
    [
        "llama-spm", "phi-3", "llama-bpe", "qwen2", "qwen35", "gpt-2", "deepseek-llm", "deepseek-coder", "falcon", "mpt",
        "starcoder", "refact", "command-r", "gemma-4",
    ];

    private static readonly ConcurrentDictionary<string, Lazy<Tokenizer>> s_tokenizers = new(StringComparer.Ordinal);

    public static Tokenizer Tokenizer(string vocab) => s_tokenizers.GetOrAdd(vocab, v => new Lazy<Tokenizer>(() =>
    {
        using GgufFile file = GgufFile.Open(TestPaths.Vocab($"ggml-vocab-{v}.gguf"));
        return global::Tq.Core.Tokenization.Tokenizer.FromGguf(file);
    })).Value;

    public static IReadOnlyList<(string Text, int[] Ids)> Read(string vocab)
    {
        string raw = File.ReadAllText(TestPaths.Vocab($"ggml-vocab-{vocab}.gguf.inp"), Encoding.UTF8);
        const string separator = "\n__ggml_vocab_test__\n";
        var texts = new List<string>();
        int pos = 0;
        while (pos < raw.Length)
        {
            int next = raw.IndexOf(separator, pos, StringComparison.Ordinal);
            if (next < 0)
            {
                texts.Add(raw[pos..]);
                break;
            }

            texts.Add(raw[pos..next]);
            pos = next + separator.Length;
        }

        string[] lines = File.ReadAllLines(TestPaths.Vocab($"ggml-vocab-{vocab}.gguf.out"), Encoding.UTF8);
        if (lines.Length != texts.Count)
        {
            throw new InvalidDataException($"{vocab}: {texts.Count} texts but {lines.Length} expected-id lines.");
        }

        return [.. texts.Select((t, i) => (t, lines[i].Trim().Length == 0 ? Array.Empty<int>()
            : lines[i].Trim().Split(' ').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray()))];
    }

    public static TheoryData<string, int> AllCases()
    {
        var data = new TheoryData<string, int>();
        foreach (string vocab in Supported)
        {
            int count = Read(vocab).Count;
            for (int i = 0; i < count; i++)
            {
                data.Add(vocab, i);
            }
        }

        return data;
    }
}
