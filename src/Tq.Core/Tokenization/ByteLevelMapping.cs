namespace Tq.Core.Tokenization;

/// <summary>
/// GPT-2's reversible byte → Unicode mapping (<c>bytes_to_unicode</c>): printable Latin-1 bytes map to themselves, the
/// other 68 bytes to U+0100 onwards, so every byte-level BPE token text is a string of these characters.
/// </summary>
internal static class ByteLevelMapping
{
    private static readonly char[] s_byteToChar = BuildByteToChar();
    private static readonly short[] s_charToByte = BuildCharToByte();

    /// <summary>The character a byte is written as in byte-level BPE token texts.</summary>
    public static char ToChar(byte value) => s_byteToChar[value];

    /// <summary>The byte a token-text character stands for, or -1 when the character is not part of the mapping.</summary>
    public static int ToByte(int codePoint) => codePoint >= 0 && codePoint < s_charToByte.Length ? s_charToByte[codePoint] : -1;

    /// <summary>Decodes a byte-level token text into raw bytes; false when it holds a character outside the mapping.</summary>
    public static bool TryDecode(string text, List<byte> destination)
    {
        destination.Clear();
        foreach (char c in text)
        {
            int b = ToByte(c);
            if (b < 0)
            {
                return false;
            }

            destination.Add((byte)b);
        }

        return true;
    }

    private static bool IsSelfMapped(int b) => (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            map[b] = IsSelfMapped(b) ? (char)b : (char)(256 + next++);
        }

        return map;
    }

    private static short[] BuildCharToByte()
    {
        var map = new short[256 + 68];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++)
        {
            map[s_byteToChar[b]] = (short)b;
        }

        return map;
    }
}
