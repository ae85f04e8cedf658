using System.Buffers;

namespace Tq.Core.Tokenization;

/// <summary>
/// llama.cpp's <c>llm_tokenizer_spm_session</c>: split UTF-8 text into characters, repeatedly merge the adjacent pair
/// whose concatenation is the highest-scoring vocabulary token (ties: leftmost), then emit each remaining symbol as its
/// token or, when it is not in the vocabulary, as <c>&lt;0xXX&gt;</c> byte tokens.
/// </summary>
internal sealed class SpmEncoder
{
    private static readonly IComparer<Bigram> s_order = Comparer<Bigram>.Create(static (a, b) =>
    {
        // PriorityQueue pops the smallest: highest score first, then the leftmost.
        int byScore = b.Score.CompareTo(a.Score);
        return byScore != 0 ? byScore : a.Left.CompareTo(b.Left);
    });

    private readonly EncoderQueue<Bigram> _queues = new(s_order);
    private readonly ByteSpanMap _tokens;
    private readonly float[] _scores;
    private readonly int[] _byteTokens;

    public SpmEncoder(ByteSpanMap tokens, float[] scores, int[] byteTokens)
    {
        _tokens = tokens;
        _scores = scores;
        _byteTokens = byteTokens;
    }

    public void Encode(ReadOnlySpan<byte> text, List<int> output)
    {
        if (text.IsEmpty)
        {
            return;
        }

        MergeSymbol[] symbols = ArrayPool<MergeSymbol>.Shared.Rent(text.Length);
        try
        {
            int count = MergeSymbol.Split(text, symbols, perCharacter: true);

            PriorityQueue<Bigram, Bigram> queue = _queues.Rent(count);
            for (int i = 1; i < count; i++)
            {
                TryAddBigram(text, symbols, queue, i - 1, i);
            }

            while (queue.TryDequeue(out Bigram bigram, out _))
            {
                if (MergeSymbol.TryMerge(symbols, bigram.Left, bigram.Right, bigram.Size))
                {
                    TryAddBigram(text, symbols, queue, symbols[bigram.Left].Prev, bigram.Left);
                    TryAddBigram(text, symbols, queue, bigram.Left, symbols[bigram.Left].Next);
                }
            }

            _queues.Return(queue, count);
            for (int i = 0; i != -1; i = symbols[i].Next)
            {
                ReadOnlySpan<byte> piece = text.Slice(symbols[i].Start, symbols[i].Length);
                int id = _tokens.Find(piece);
                if (id >= 0)
                {
                    output.Add(id);
                    continue;
                }

                // Every merged symbol is a vocabulary token, so only single characters get here: emit their bytes.
                foreach (byte b in piece)
                {
                    int byteId = _byteTokens[b];
                    if (byteId < 0)
                    {
                        throw new InvalidOperationException($"The vocabulary has no byte token <0x{b:X2}> to encode a character it does not contain.");
                    }

                    output.Add(byteId);
                }
            }
        }
        finally
        {
            ArrayPool<MergeSymbol>.Shared.Return(symbols);
        }
    }

    private void TryAddBigram(ReadOnlySpan<byte> text, MergeSymbol[] symbols, PriorityQueue<Bigram, Bigram> queue, int left, int right)
    {
        if (left == -1 || right == -1)
        {
            return;
        }

        int size = symbols[left].Length + symbols[right].Length;
        int id = _tokens.Find(text.Slice(symbols[left].Start, size));
        if (id < 0)
        {
            return;
        }

        var bigram = new Bigram(left, right, _scores[id], size);
        queue.Enqueue(bigram, bigram);
    }

    // llama.cpp's unicode_len_utf8: the sequence length from the lead byte's high nibble.
    internal static int Utf8Length(byte lead) => (lead >> 4) switch
    {
        < 12 => 1,
        12 or 13 => 2,
        14 => 3,
        _ => 4,
    };

    private readonly record struct Bigram(int Left, int Right, float Score, int Size);
}
