using System.Buffers;
using System.Globalization;
using System.Text;

namespace Tq.Core.Tokenization;

/// <summary>Classifies code points the way llama.cpp's <c>unicode_cpt_flags_from_cpt</c> does.</summary>
internal static class Codepoints
{
    public static CodepointFlags Flags(int codePoint)
    {
        if (codePoint < 0 || codePoint > 0x10FFFF)
        {
            return CodepointFlags.Undefined;
        }

        CodepointFlags category = CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
        {
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CodepointFlags.Number,
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CodepointFlags.Letter,
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => CodepointFlags.Separator,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => CodepointFlags.AccentMark,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
                or UnicodeCategory.OtherPunctuation => CodepointFlags.Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol => CodepointFlags.Symbol,
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse => CodepointFlags.Control,
            _ => CodepointFlags.Undefined,
        };

        // Unicode White_Space (the set llama.cpp's tables use) is exactly .NET's Rune.IsWhiteSpace.
        if (Rune.IsValid(codePoint) && Rune.IsWhiteSpace(new Rune(codePoint)))
        {
            category |= CodepointFlags.Whitespace;
        }

        return category;
    }

    /// <summary>
    /// Decodes UTF-8 into code points and the byte offset of each (plus the end offset); returns the code point count.
    /// Both destinations need room for <c>utf8.Length</c> (+1 for the offsets). Input from .NET strings is valid UTF-8.
    /// </summary>
    public static int FromUtf8(ReadOnlySpan<byte> utf8, Span<int> codePoints, Span<int> byteOffsets)
    {
        int count = 0;
        int i = 0;
        while (i < utf8.Length)
        {
            byteOffsets[count] = i;
            OperationStatus status = Rune.DecodeFromUtf8(utf8[i..], out Rune rune, out int consumed);
            codePoints[count++] = status == OperationStatus.Done ? rune.Value : 0xFFFD;
            i += Math.Max(consumed, 1);
        }

        byteOffsets[count] = utf8.Length;
        return count;
    }
}
