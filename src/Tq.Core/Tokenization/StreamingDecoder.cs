using System.Text;

namespace Tq.Core.Tokenization;

/// <summary>
/// Turns generated token ids into text one at a time. A character whose UTF-8 bytes are spread over several tokens
/// (byte-fallback emoji, byte-level BPE pieces) is held back until it is complete, so the text never shows a
/// replacement character mid-stream. Pieces are concatenated as llama.cpp's server streams them (no space stripping).
/// Not thread-safe; one per generation.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _renderSpecial;
    private readonly byte[] _pending = new byte[4];
    private byte[] _buffer = new byte[64];
    private int _pendingCount;

    internal StreamingDecoder(Tokenizer tokenizer, bool renderSpecial)
    {
        _tokenizer = tokenizer;
        _renderSpecial = renderSpecial;
    }

    /// <summary>Adds one token and returns the text completed by it (empty when it only started a character).</summary>
    public string Append(int id)
    {
        ReadOnlySpan<byte> piece = _tokenizer.TokenToPieceUtf8(id, _renderSpecial);
        if (piece.IsEmpty)
        {
            return string.Empty;
        }

        int total = _pendingCount + piece.Length;
        if (_buffer.Length < total)
        {
            _buffer = new byte[Math.Max(total, _buffer.Length * 2)];
        }

        _pending.AsSpan(0, _pendingCount).CopyTo(_buffer);
        piece.CopyTo(_buffer.AsSpan(_pendingCount));
        int complete = total - IncompleteTail(_buffer.AsSpan(0, total));
        _pendingCount = total - complete;
        _buffer.AsSpan(complete, _pendingCount).CopyTo(_pending);
        return complete == 0 ? string.Empty : Encoding.UTF8.GetString(_buffer, 0, complete);
    }

    /// <summary>Returns whatever is held back (an unfinished character becomes U+FFFD) and resets the decoder.</summary>
    public string Flush()
    {
        string rest = _pendingCount == 0 ? string.Empty : Encoding.UTF8.GetString(_pending, 0, _pendingCount);
        _pendingCount = 0;
        return rest;
    }

    /// <summary>Discards held-back bytes.</summary>
    public void Reset() => _pendingCount = 0;

    // The length of a trailing UTF-8 sequence that has started but not finished (0 when the text ends on a boundary).
    private static int IncompleteTail(ReadOnlySpan<byte> bytes)
    {
        int continuation = 0;
        for (int i = bytes.Length - 1; i >= 0 && continuation < 4; i--)
        {
            byte b = bytes[i];
            if ((b & 0xC0) == 0x80)
            {
                continuation++;
                continue;
            }

            int needed = b < 0xC2 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : b <= 0xF4 ? 4 : 1;
            return needed > continuation + 1 ? continuation + 1 : 0;
        }

        return 0;
    }
}
