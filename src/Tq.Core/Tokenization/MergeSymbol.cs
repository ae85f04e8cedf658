namespace Tq.Core.Tokenization;

/// <summary>
/// One symbol of the doubly linked list both of llama.cpp's merge sessions work on (<c>llm_symbol</c>, shared by
/// <see cref="SpmEncoder"/> and <see cref="BpeEncoder"/>): a byte range of the input that merges absorb into their
/// left neighbour. The encoders differ only in which adjacent pair merges first (score or rank).
/// </summary>
internal struct MergeSymbol
{
    /// <summary>The first byte of the symbol in the input.</summary>
    public int Start;

    /// <summary>Bytes of the symbol; 0 once merged into its left neighbour.</summary>
    public int Length;

    /// <summary>The previous symbol, or -1.</summary>
    public int Prev;

    /// <summary>The next symbol, or -1.</summary>
    public int Next;

    /// <summary>
    /// Splits <paramref name="text"/> into symbols of one byte each, or of one UTF-8 character each (a truncated
    /// character keeps the bytes that are there), linked in order; returns their count.
    /// </summary>
    public static int Split(ReadOnlySpan<byte> text, Span<MergeSymbol> symbols, bool perCharacter)
    {
        int count = 0;
        for (int offset = 0; offset < text.Length;)
        {
            int n = perCharacter ? Math.Min(SpmEncoder.Utf8Length(text[offset]), text.Length - offset) : 1;
            symbols[count] = new MergeSymbol { Start = offset, Length = n, Prev = count - 1 };
            offset += n;
            symbols[count].Next = offset == text.Length ? -1 : count + 1;
            count++;
        }

        return count;
    }

    /// <summary>
    /// Merges symbol <paramref name="right"/> into <paramref name="left"/> when the pair is still as it was queued
    /// (both alive, together <paramref name="size"/> bytes); false for a stale pair.
    /// </summary>
    public static bool TryMerge(Span<MergeSymbol> symbols, int left, int right, int size)
    {
        ref MergeSymbol l = ref symbols[left];
        ref MergeSymbol r = ref symbols[right];
        if (l.Length == 0 || r.Length == 0 || l.Length + r.Length != size)
        {
            return false;
        }

        l.Length += r.Length;
        r.Length = 0;
        l.Next = r.Next;
        if (r.Next >= 0)
        {
            symbols[r.Next].Prev = left;
        }

        return true;
    }
}
