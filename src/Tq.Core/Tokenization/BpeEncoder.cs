using System.Buffers;
using System.Buffers.Binary;

namespace Tq.Core.Tokenization;

/// <summary>
/// llama.cpp's <c>llm_tokenizer_bpe_session</c> for one pre-tokenized word: start from single characters of the
/// byte-level text (one per raw byte), repeatedly merge the adjacent pair with the lowest merge rank (ties: leftmost),
/// then emit each symbol's token. Works on raw bytes: the vocabulary and merges are decoded from GPT-2's byte mapping
/// once, which is equivalent to llama.cpp's lookups on the byte-encoded strings.
/// </summary>
internal sealed class BpeEncoder
{
    private static readonly IComparer<Bigram> s_order = Comparer<Bigram>.Create(static (a, b) =>
    {
        int byRank = a.Rank.CompareTo(b.Rank);
        return byRank != 0 ? byRank : a.Left.CompareTo(b.Left);
    });

    private readonly EncoderQueue<Bigram> _queues = new(s_order);
    private readonly ByteSpanMap _tokens;
    private readonly ByteSpanMap _merges;
    private readonly bool _ignoreMerges;
    private readonly int[]? _byteTokens;
    private readonly bool _newlineWords;

    /// <param name="tokens">Token ids by raw bytes (byte-level) or by UTF-8 text (SentencePiece-style BPE).</param>
    /// <param name="merges">Merge ranks keyed by <see cref="MergeKey"/>.</param>
    /// <param name="ignoreMerges">A word that is itself a token is emitted whole (Llama 3).</param>
    /// <param name="byteTokens">
    /// Null for GPT-2 byte-level BPE (one symbol per raw byte). Otherwise the vocabulary is SentencePiece-style
    /// (Gemma 4): symbols are UTF-8 characters and unknown symbols fall back to these <c>&lt;0xXX&gt;</c> tokens.
    /// </param>
    /// <param name="newlineWords">Gemma 4: a word made only of newlines that is a token is emitted whole.</param>
    public BpeEncoder(ByteSpanMap tokens, ByteSpanMap merges, bool ignoreMerges, int[]? byteTokens = null, bool newlineWords = false)
    {
        _tokens = tokens;
        _merges = merges;
        _ignoreMerges = ignoreMerges;
        _byteTokens = byteTokens;
        _newlineWords = newlineWords;
    }

    /// <summary>The merge-table key for a pair: the left length (2 bytes) then both byte strings.</summary>
    public static byte[] MergeKey(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var key = new byte[2 + left.Length + right.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(key, (ushort)left.Length);
        left.CopyTo(key.AsSpan(2));
        right.CopyTo(key.AsSpan(2 + left.Length));
        return key;
    }

    public void EncodeWord(ReadOnlySpan<byte> word, List<int> output)
    {
        if (word.IsEmpty)
        {
            return;
        }

        if (_ignoreMerges || (_newlineWords && !word.ContainsAnyExcept((byte)'\n')))
        {
            int whole = _tokens.Find(word);
            if (whole >= 0)
            {
                output.Add(whole);
                return;
            }
        }

        MergeSymbol[] symbols = ArrayPool<MergeSymbol>.Shared.Rent(word.Length);
        byte[] keyBuffer = ArrayPool<byte>.Shared.Rent(word.Length + 2);
        try
        {
            int count = MergeSymbol.Split(word, symbols, perCharacter: _byteTokens is not null);

            PriorityQueue<Bigram, Bigram> queue = _queues.Rent(count);
            for (int i = 1; i < count; i++)
            {
                TryAddBigram(word, symbols, keyBuffer, queue, i - 1, i);
            }

            while (queue.TryDequeue(out Bigram bigram, out _))
            {
                if (MergeSymbol.TryMerge(symbols, bigram.Left, bigram.Right, bigram.Size))
                {
                    TryAddBigram(word, symbols, keyBuffer, queue, symbols[bigram.Left].Prev, bigram.Left);
                    TryAddBigram(word, symbols, keyBuffer, queue, bigram.Left, symbols[bigram.Left].Next);
                }
            }

            _queues.Return(queue, count);
            for (int i = 0; i != -1; i = symbols[i].Next)
            {
                ReadOnlySpan<byte> piece = word.Slice(symbols[i].Start, symbols[i].Length);
                int id = _tokens.Find(piece);
                if (id >= 0)
                {
                    output.Add(id);
                    continue;
                }

                if (_byteTokens is not null)
                {
                    foreach (byte b in piece)
                    {
                        if (_byteTokens[b] >= 0)
                        {
                            output.Add(_byteTokens[b]);
                        }
                    }

                    continue;
                }

                // llama.cpp looks each byte of the byte-level UTF-8 text up on its own: only bytes whose mapped
                // character is ASCII can match a token; the rest are dropped, as there.
                foreach (byte b in piece)
                {
                    if (ByteLevelMapping.ToChar(b) < 0x80)
                    {
                        int single = _tokens.Find([b]);
                        if (single >= 0)
                        {
                            output.Add(single);
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(keyBuffer);
            ArrayPool<MergeSymbol>.Shared.Return(symbols);
        }
    }

    private void TryAddBigram(ReadOnlySpan<byte> word, MergeSymbol[] symbols, byte[] keyBuffer, PriorityQueue<Bigram, Bigram> queue, int left, int right)
    {
        if (left == -1 || right == -1)
        {
            return;
        }

        int leftLength = symbols[left].Length;
        int size = leftLength + symbols[right].Length;
        BinaryPrimitives.WriteUInt16LittleEndian(keyBuffer, (ushort)leftLength);
        word.Slice(symbols[left].Start, size).CopyTo(keyBuffer.AsSpan(2));
        int rank = _merges.Find(keyBuffer.AsSpan(0, size + 2));
        if (rank < 0)
        {
            return;
        }

        var bigram = new Bigram(left, right, rank, size);
        queue.Enqueue(bigram, bigram);
    }

    private readonly record struct Bigram(int Left, int Right, int Rank, int Size);
}
