using System.Text;
using BenchmarkDotNet.Attributes;
using Tq.Core.Gguf;
using Tq.Core.Tokenization;

namespace Tq.Benchmarks.Tokenization;

/// <summary>
/// Encoding and streaming-decoding speed of the llama.cpp-exact tokenizers on the first 64 KiB of wikitext-2 valid.
/// Needs <c>../shared</c> beside the repository (or <c>TQ_SHARED_DIR</c>).
/// Run: <c>dotnet run -c Release --project benchmarks/Tq.Benchmarks -- --filter '*TokenizerBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private Tokenizer _tokenizer = null!;
    private string _text = null!;
    private int[] _ids = null!;
    private readonly List<int> _buffer = new(1 << 16);

    /// <summary>The vocabulary: stories260K (SentencePiece) or a llama.cpp vocab GGUF (byte-level BPE).</summary>
    [Params("stories260K.gguf", "vocab/ggml-vocab-llama-bpe.gguf", "vocab/ggml-vocab-qwen2.gguf")]
    public string Vocabulary { get; set; } = "stories260K.gguf";

    [GlobalSetup]
    public void Setup()
    {
        string shared = FindShared();
        using GgufFile file = GgufFile.Open(Path.Combine(shared, "models", Vocabulary));
        _tokenizer = Tokenizer.FromGguf(file);
        string corpus = Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(shared, "corpora", "wikitext-2-raw", "wiki.valid.raw")));
        _text = corpus[..(64 * 1024)];
        _ids = _tokenizer.Encode(_text, addSpecial: false);
    }

    [Benchmark]
    public int Encode()
    {
        _buffer.Clear();
        _tokenizer.Encode(_text, _buffer, addSpecial: false);
        return _buffer.Count;
    }

    [Benchmark]
    public int StreamingDecode()
    {
        StreamingDecoder decoder = _tokenizer.CreateStreamingDecoder();
        int chars = 0;
        foreach (int id in _ids)
        {
            chars += decoder.Append(id).Length;
        }

        return chars + decoder.Flush().Length;
    }

    private static string FindShared()
    {
        string? overridden = Environment.GetEnvironmentVariable("TQ_SHARED_DIR");
        if (!string.IsNullOrEmpty(overridden))
        {
            return overridden;
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "models")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("The shared data folder (../shared with models/ and corpora/) was not found; set TQ_SHARED_DIR.");
    }
}
