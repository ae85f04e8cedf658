namespace Tq.Core.Tokenization;

/// <summary>The tokenizer algorithm a GGUF vocabulary uses (<c>tokenizer.ggml.model</c>).</summary>
public enum TokenizerKind
{
    /// <summary>SentencePiece-style (<c>llama</c>): score-ordered bigram merges with <c>&lt;0xXX&gt;</c> byte fallback.</summary>
    SentencePiece,

    /// <summary>
    /// BPE with rank-ordered merges: GPT-2 byte-level (<c>gpt2</c>, regex pre-tokenizer) or SentencePiece-style over
    /// UTF-8 with <c>▁</c> for spaces and byte fallback (<c>gemma4</c>).
    /// </summary>
    BytePairEncoding,
}
