namespace Tq.Core.Tokenization;

/// <summary>The tokenizer algorithm a GGUF vocabulary uses (<c>tokenizer.ggml.model</c>).</summary>
public enum TokenizerKind
{
    /// <summary>SentencePiece-style (<c>llama</c>): score-ordered bigram merges with <c>&lt;0xXX&gt;</c> byte fallback.</summary>
    SentencePiece,

    /// <summary>GPT-2 byte-level BPE (<c>gpt2</c>): regex pre-tokenizer and rank-ordered merges.</summary>
    BytePairEncoding,
}
