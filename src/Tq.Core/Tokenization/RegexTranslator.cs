using System.Globalization;
using System.Text;

namespace Tq.Core.Tokenization;

/// <summary>
/// Rewrites llama.cpp's pre-tokenizer patterns (C++ std::regex, ECMAScript flavour) for .NET: Unicode categories become
/// llama.cpp's collapsed byte classes, <c>$</c> anchors at the very end only, and character classes holding code points
/// beyond the BMP (which .NET matches as surrogate pairs) become alternations.
/// </summary>
internal static class RegexTranslator
{
    // llama.cpp's k_ucat_cpt + k_ucat_map: the byte that stands for each non-ASCII category plus its ASCII members.
    private static readonly Dictionary<string, string> s_categories = new(StringComparer.Ordinal)
    {
        [@"\p{N}"] = @"\u00D10-9",
        [@"\p{L}"] = @"\u00D2A-Za-z",
        [@"\p{P}"] = @"\u00D3!-#%-*,-/:-;?-@\[-\]_\{\}",
        [@"\p{M}"] = @"\u00D4",
        [@"\p{S}"] = @"\u00D5\$\+<->\^`\|",
    };

    /// <summary>Replaces <c>\p{X}</c> by the collapsed class exactly as llama.cpp's <c>unicode_regex_split</c> does.</summary>
    public static string CollapseCategories(string pattern)
    {
        var sb = new StringBuilder(pattern.Length * 2);
        bool inside = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '[' && (i == 0 || pattern[i - 1] != '\\'))
            {
                sb.Append('[');
                inside = true;
                continue;
            }

            if (inside && c == ']' && pattern[i - 1] != '\\')
            {
                sb.Append(']');
                inside = false;
                continue;
            }

            if (c == '\\' && i + 4 < pattern.Length && pattern[i + 1] == 'p' && pattern[i + 2] == '{' && pattern[i + 4] == '}'
                && s_categories.TryGetValue(pattern.Substring(i, 5), out string? set))
            {
                sb.Append(inside ? set : $"[{set}]");
                i += 4;
                continue;
            }

            if (c > 0x7F)
            {
                throw new NotSupportedException("A pre-tokenizer pattern mixes Unicode categories and non-ASCII characters.");
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    /// <summary>Translates anchors and astral character classes to .NET syntax.</summary>
    public static string ToDotNet(string pattern)
    {
        var sb = new StringBuilder(pattern.Length * 2);
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(c).Append(pattern[i + 1]);
                i += 2;
                continue;
            }

            if (c == '$')
            {
                // ECMAScript '$' (no multiline) matches only at the end; .NET's would also match before a final '\n'.
                sb.Append(@"\z");
                i++;
                continue;
            }

            if (c == '[')
            {
                i = TranslateClass(pattern, i, sb);
                continue;
            }

            sb.Append(c);
            i++;
        }

        return sb.ToString();
    }

    private static int TranslateClass(string pattern, int open, StringBuilder sb)
    {
        int i = open + 1;
        bool negated = i < pattern.Length && pattern[i] == '^';
        if (negated)
        {
            i++;
        }

        var bmp = new StringBuilder();
        var astral = new List<(int Lo, int Hi)>();
        while (i < pattern.Length && pattern[i] != ']')
        {
            (string loText, int lo) = ReadAtom(pattern, ref i);
            string hiText = loText;
            int hi = lo;
            if (i + 1 < pattern.Length && pattern[i] == '-' && pattern[i + 1] != ']')
            {
                i++;
                (hiText, hi) = ReadAtom(pattern, ref i);
            }

            if (hi <= 0xFFFF)
            {
                bmp.Append(loText);
                if (!ReferenceEquals(hiText, loText))
                {
                    bmp.Append('-').Append(hiText);
                }
            }
            else
            {
                if (lo <= 0xFFFF)
                {
                    bmp.Append(loText).Append('-').Append(@"\uFFFF");
                    lo = 0x10000;
                }

                astral.Add((lo, hi));
            }
        }

        if (i >= pattern.Length)
        {
            throw new NotSupportedException($"Unterminated character class in pre-tokenizer pattern '{pattern}'.");
        }

        i++; // ']'
        if (astral.Count == 0)
        {
            sb.Append('[').Append(negated ? "^" : string.Empty).Append(bmp).Append(']');
            return i;
        }

        if (negated)
        {
            throw new NotSupportedException($"A negated character class with code points beyond U+FFFF is not supported: '{pattern}'.");
        }

        sb.Append("(?:");
        if (bmp.Length > 0)
        {
            sb.Append('[').Append(bmp).Append("]|");
        }

        bool firstAlt = true;
        foreach ((int lo, int hi) in astral)
        {
            string loS = char.ConvertFromUtf32(lo), hiS = char.ConvertFromUtf32(hi);
            for (int high = loS[0]; high <= hiS[0]; high++)
            {
                int lowStart = high == loS[0] ? loS[1] : 0xDC00;
                int lowEnd = high == hiS[0] ? hiS[1] : 0xDFFF;
                sb.Append(firstAlt ? string.Empty : "|").Append(Escape(high)).Append('[').Append(Escape(lowStart)).Append('-').Append(Escape(lowEnd)).Append(']');
                firstAlt = false;
            }
        }

        sb.Append(')');
        return i;
    }

    // One class member: an escape (kept as written; \uXXXX decoded so it can bound a range) or a literal code point.
    private static (string Text, int CodePoint) ReadAtom(string pattern, ref int i)
    {
        if (pattern[i] == '\\')
        {
            if (pattern[i + 1] == 'u' && i + 6 <= pattern.Length)
            {
                string text = pattern.Substring(i, 6);
                i += 6;
                return (text, int.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }

            string escape = pattern.Substring(i, 2);
            i += 2;
            return (escape, escape[1]);
        }

        int cp = char.ConvertToUtf32(pattern, i);
        i += cp > 0xFFFF ? 2 : 1;
        return (Escape(cp), cp);
    }

    private static string Escape(int c) => string.Create(CultureInfo.InvariantCulture, $"\\u{c:X4}");
}
