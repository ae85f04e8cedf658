using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Tq.Core.Tokenization;

/// <summary>
/// llama.cpp's <c>unicode_regex_split</c>: a list of regexes, each splitting every segment the previous ones produced
/// (matches and the text between them both become segments). The GPT-2 and Llama 3 patterns use hand-written splitters
/// with full Unicode categories, as llama.cpp does; every other pattern runs on llama.cpp's "collapsed" text, where each
/// non-ASCII code point is replaced by one byte standing for its category, so the results match llama.cpp's std::regex
/// exactly, including where it differs from a true Unicode regex.
/// </summary>
internal sealed class PreTokenizer
{
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
    internal const string Llama3Pattern = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    internal const string Qwen2Pattern = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    internal const string Qwen35Pattern = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static readonly string[] s_default = [@"[\p{P}\$\+<=>\^~\|]+", Gpt2Pattern, @"\p{N}+", "[0-9][0-9][0-9]"];
    private static readonly string[] s_starcoder = [@"\p{N}", Gpt2Pattern];
    private static readonly string[] s_falcon = [@"[\p{P}\$\+<=>\^~\|`]+", Gpt2Pattern, "[0-9][0-9][0-9]"];
    private static readonly string[] s_deepseekLlm =
    [
        "[\r\n]",
        @"\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
        @"\s?[!-/:-~！-／：-～‘-‟　-。]+",
        @"\s+$",
        "[一-龥ࠀ-一가-퟿]+",
        @"\p{N}+",
    ];
    private static readonly string[] s_deepseekCoder = ["[\r\n]", @"\s?\p{L}+", @"\s?\p{P}+", "[一-龥ࠀ-一가-퟿]+", @"\p{N}"];

    private readonly Step[] _steps;

    private PreTokenizer(string[] patterns)
    {
        _steps = [.. patterns.Select(Step.Create)];
        NeedsCollapse = _steps.Any(s => s.Collapsed);
    }

    private bool NeedsCollapse { get; }

    /// <summary>The pre-tokenizer for <c>tokenizer.ggml.pre</c> and the vocabulary flags llama.cpp ties to it.</summary>
    public static PreTokenizer ForName(string? pre, out bool ignoreMerges, out bool cleanSpaces, out bool? addBos)
    {
        ignoreMerges = false;
        cleanSpaces = true;
        addBos = null;
        string[] patterns;
        switch (pre)
        {
            case null or "" or "default":
                patterns = s_default;
                break;
            case "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2":
                patterns = [Llama3Pattern];
                ignoreMerges = true;
                addBos = true;
                break;
            case "dbrx" or "smaug-bpe":
                patterns = [Llama3Pattern];
                break;
            case "deepseek-llm":
                patterns = s_deepseekLlm;
                cleanSpaces = false;
                break;
            case "deepseek-coder":
                patterns = s_deepseekCoder;
                cleanSpaces = false;
                break;
            case "falcon":
                patterns = s_falcon;
                break;
            case "gpt-2" or "phi-2" or "jina-es" or "jina-de" or "gigachat" or "jina-v2-es" or "jina-v2-de" or "a.x-4.0" or "mellum"
                or "modern-bert" or "exaone4" or "mpt" or "olmo" or "jais":
                patterns = [Gpt2Pattern];
                break;
            case "trillion" or "granite-docling":
                patterns = [Gpt2Pattern];
                cleanSpaces = false;
                break;
            case "starcoder" or "refact" or "codeshell" or "exaone" or "minerva-7b" or "mellum2":
                patterns = s_starcoder;
                break;
            case "command-r" or "smollm":
                patterns = s_starcoder;
                cleanSpaces = false;
                break;
            case "qwen2" or "deepseek-r1-qwen" or "kormo" or "f2llmv2" or "hunyuan" or "solar-open":
                patterns = [Qwen2Pattern];
                cleanSpaces = false;
                break;
            case "stablelm2" or "megrez":
                patterns = [Qwen2Pattern];
                break;
            case "gemma4" or "granite-embed-multi-311m":
                patterns = ["[^\n]+|[\n]+"];
                addBos = true;
                break;
            case "qwen35":
                patterns = [Qwen35Pattern];
                cleanSpaces = false;
                break;
            default:
                throw new NotSupportedException($"The BPE pre-tokenizer '{pre}' (tokenizer.ggml.pre) is not supported.");
        }

        return new PreTokenizer(patterns);
    }

    /// <summary>Splits code points into words; returns word lengths in code points, in order.</summary>
    public List<int> Split(ReadOnlySpan<int> cpts)
    {
        var offsets = new List<int>(Math.Max(4, cpts.Length / 3));
        if (cpts.IsEmpty)
        {
            return offsets;
        }

        offsets.Add(cpts.Length);
        string? collapsed = null;
        string? wide = null;
        int[]? wideCharToCp = null;
        int[]? cpToWideChar = null;
        foreach (Step step in _steps)
        {
            var next = new List<int>(offsets.Count * 2);
            if (step.Custom != CustomSplit.None)
            {
                SplitWords(cpts, offsets, next, llama3: step.Custom == CustomSplit.Llama3);
            }
            else if (step.Collapsed)
            {
                collapsed ??= Collapse(cpts);
                SplitRegex(step.Regex!, collapsed, offsets, next, null, null);
            }
            else
            {
                if (wide is null)
                {
                    (wide, wideCharToCp, cpToWideChar) = Widen(cpts);
                }

                SplitRegex(step.Regex!, wide, offsets, next, wideCharToCp, cpToWideChar);
            }

            offsets = next;
        }

        return offsets;
    }

    private static void SplitRegex(Regex regex, string target, List<int> offsets, List<int> next, int[]? charToCp, int[]? cpToChar)
    {
        int start = 0;
        foreach (int length in offsets)
        {
            int charStart = cpToChar is null ? start : cpToChar[start];
            int charEnd = cpToChar is null ? start + length : cpToChar[start + length];
            int last = start;

            // EnumerateMatches over the segment's span: its end is the end for '$' and lookaheads, as for llama.cpp's
            // std::cregex_iterator over [start, end), and ValueMatch allocates nothing per word.
            foreach (ValueMatch m in regex.EnumerateMatches(target.AsSpan(charStart, charEnd - charStart)))
            {
                if (m.Length == 0)
                {
                    continue;
                }

                int index = charStart + m.Index;
                int mStart = charToCp is null ? index : charToCp[index];
                int mEnd = charToCp is null ? index + m.Length : charToCp[index + m.Length];
                if (mStart > last)
                {
                    next.Add(mStart - last);
                }

                next.Add(mEnd - mStart);
                last = mEnd;
            }

            if (last < start + length)
            {
                next.Add(start + length - last);
            }

            start += length;
        }
    }

    // llama.cpp's collapsed text: ASCII stays, whitespace becomes \v, other code points one byte per category.
    private static string Collapse(ReadOnlySpan<int> cpts)
    {
        var chars = new char[cpts.Length];
        for (int i = 0; i < cpts.Length; i++)
        {
            int c = cpts[i];
            if (c < 128)
            {
                chars[i] = (char)c;
                continue;
            }

            CodepointFlags flags = Codepoints.Flags(c);
            chars[i] = (flags & CodepointFlags.Whitespace) != 0 ? '\v' : (flags & (CodepointFlags)0xFF) switch
            {
                CodepointFlags.Number => '\u00D1',
                CodepointFlags.Letter => '\u00D2',
                CodepointFlags.Punctuation => '\u00D3',
                CodepointFlags.AccentMark => '\u00D4',
                CodepointFlags.Symbol => '\u00D5',
                _ => '\u00D0',
            };
        }

        return new string(chars);
    }

    // The text as UTF-16 with non-ASCII whitespace replaced by \v (llama.cpp's std::wregex path), plus index maps.
    private static (string Text, int[] CharToCp, int[] CpToChar) Widen(ReadOnlySpan<int> cpts)
    {
        var sb = new StringBuilder(cpts.Length + 8);
        var cpToChar = new int[cpts.Length + 1];
        var charToCp = new List<int>(cpts.Length + 1);
        for (int i = 0; i < cpts.Length; i++)
        {
            cpToChar[i] = sb.Length;
            int c = cpts[i];
            if (c > 0x7F && (Codepoints.Flags(c) & CodepointFlags.Whitespace) != 0)
            {
                c = '\v';
            }

            if (c > 0xFFFF)
            {
                sb.Append(char.ConvertFromUtf32(c));
                charToCp.Add(i);
                charToCp.Add(i);
            }
            else
            {
                sb.Append((char)c);
                charToCp.Add(i);
            }
        }

        cpToChar[cpts.Length] = sb.Length;
        charToCp.Add(cpts.Length);
        return (sb.ToString(), [.. charToCp], cpToChar);
    }

    // GPT-2's and Llama 3's hand-written splits (llama.cpp's unicode_regex_split_custom_gpt2/_llama3): both walk each
    // word the earlier steps made, try the contractions first and end with the whitespace alternatives; in between,
    // each pattern's own alternatives (`step`) add the piece at pos and return where the next starts, or -1 when none
    // matches.
    private static void SplitWords(ReadOnlySpan<int> cpts, List<int> offsets, List<int> result, bool llama3)
    {
        int start = 0;
        foreach (int length in offsets)
        {
            var w = new Window(cpts, start, start + length, result);
            for (int pos = start; pos < w.End;)
            {
                int contraction = ContractionLength(ref w, pos, ignoreCase: llama3);
                if (contraction > 0)
                {
                    pos += w.Add(pos + contraction);
                    continue;
                }

                int next = llama3 ? Llama3Pieces(ref w, pos) : Gpt2Pieces(ref w, pos);
                pos = next >= 0 ? next : SplitWhitespace(ref w, pos, lineBreaks: llama3);
            }

            start += length;
        }
    }

    // ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`: a run of one class, after an optional space.
    private static int Gpt2Pieces(ref Window w, int pos)
    {
        int cpt = w.Cpt(pos);
        CodepointFlags flags2 = cpt == ' ' ? w.Flags(pos + 1) : w.Flags(pos);
        CodepointFlags run = Has(flags2, CodepointFlags.Letter) ? CodepointFlags.Letter
            : Has(flags2, CodepointFlags.Number) ? CodepointFlags.Number
            : IsOther(flags2) ? OtherClass
            : CodepointFlags.None;
        if (run == CodepointFlags.None)
        {
            return -1;
        }

        pos += cpt == ' ' ? 1 : 0;
        while (run == OtherClass ? IsOther(flags2) : Has(flags2, run))
        {
            flags2 = w.Flags(++pos);
        }

        w.Add(pos);
        return pos;
    }

    // `[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*`.
    private static int Llama3Pieces(ref Window w, int pos)
    {
        int cpt = w.Cpt(pos);
        CodepointFlags flags = w.Flags(pos);

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (!(cpt == '\r' || cpt == '\n' || Has(flags, CodepointFlags.Number))
            && (Has(flags, CodepointFlags.Letter) || Has(w.Flags(pos + 1), CodepointFlags.Letter)))
        {
            pos++;
            while (Has(w.Flags(pos), CodepointFlags.Letter))
            {
                pos++;
            }

            w.Add(pos);
            return pos;
        }

        // \p{N}{1,3}
        if (Has(flags, CodepointFlags.Number))
        {
            int ini = pos;
            while (Has(w.Flags(pos), CodepointFlags.Number))
            {
                if (++pos - ini >= 3)
                {
                    w.Add(pos);
                    ini = pos;
                }
            }

            w.Add(pos);
            return pos;
        }

        // <space>?[^\s\p{L}\p{N}]+[\r\n]*
        CodepointFlags flags2 = cpt == ' ' ? w.Flags(pos + 1) : flags;
        if (!Has(flags2, CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number) && flags != CodepointFlags.None)
        {
            pos += cpt == ' ' ? 1 : 0;
            while (IsOther(flags2))
            {
                flags2 = w.Flags(++pos);
            }

            while (w.Cpt(pos) is '\r' or '\n')
            {
                pos++;
            }

            w.Add(pos);
            return pos;
        }

        return -1;
    }

    // 's|'t|'re|'ve|'m|'ll|'d ((?i:...) for Llama 3): the length of the contraction at pos, or 0.
    private static int ContractionLength(ref Window w, int pos, bool ignoreCase)
    {
        if (w.Cpt(pos) != '\'' || pos + 1 >= w.End)
        {
            return 0;
        }

        int n1 = ignoreCase ? ToLower(w.Cpt(pos + 1)) : w.Cpt(pos + 1);
        if (n1 is 's' or 't' or 'm' or 'd')
        {
            return 2;
        }

        if (pos + 2 < w.End)
        {
            int n2 = ignoreCase ? ToLower(w.Cpt(pos + 2)) : w.Cpt(pos + 2);
            if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l'))
            {
                return 3;
            }
        }

        return 0;
    }

    // The last alternatives of both patterns at pos: (Llama 3 only: \s*[\r\n]+|) \s+(?!\S)|\s+, else one code point.
    // Adds the piece and returns where the next one starts.
    private static int SplitWhitespace(ref Window w, int pos, bool lineBreaks)
    {
        int spaces = 0;
        int lastEndRn = 0;
        while (Has(w.Flags(pos + spaces), CodepointFlags.Whitespace))
        {
            if (lineBreaks && w.Cpt(pos + spaces) is '\r' or '\n')
            {
                lastEndRn = pos + spaces + 1;
            }

            spaces++;
        }

        if (lastEndRn > 0)
        {
            w.Add(lastEndRn);
            return lastEndRn;
        }

        if (spaces > 1 && w.Cpt(pos + spaces) != OutOfRange)
        {
            pos += spaces - 1;
            w.Add(pos);
            return pos;
        }

        if (spaces > 0)
        {
            pos += spaces;
            w.Add(pos);
            return pos;
        }

        w.Add(++pos);
        return pos;
    }

    private const int OutOfRange = -1;

    // Gpt2Pieces' mark for the [^\s\p{L}\p{N}] class, which is no single flag.
    private const CodepointFlags OtherClass = CodepointFlags.Whitespace;

    private static bool Has(CodepointFlags flags, CodepointFlags any) => (flags & any) != 0;

    // [^\s\p{L}\p{N}] within the segment (a code point past the segment has no flags at all).
    private static bool IsOther(CodepointFlags flags) =>
        flags != CodepointFlags.None && !Has(flags, CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number);

    private static int ToLower(int c) => c is >= 0 and <= 0xFFFF ? char.ToLowerInvariant((char)c) : c;

    private ref struct Window
    {
        private readonly ReadOnlySpan<int> _cpts;
        private readonly int _start;
        private readonly List<int> _result;
        private int _prevEnd;

        public Window(ReadOnlySpan<int> cpts, int start, int end, List<int> result)
        {
            _cpts = cpts;
            _start = start;
            End = end;
            _result = result;
            _prevEnd = start;
        }

        public int End { get; }

        public readonly int Cpt(int pos) => pos >= _start && pos < End ? _cpts[pos] : OutOfRange;

        public readonly CodepointFlags Flags(int pos) => pos >= _start && pos < End ? Codepoints.Flags(_cpts[pos]) : CodepointFlags.None;

        public int Add(int end)
        {
            int len = end - _prevEnd;
            if (len > 0)
            {
                _result.Add(len);
            }

            _prevEnd = end;
            return len;
        }
    }

    private enum CustomSplit
    {
        None,
        Gpt2,
        Llama3,
    }

    private sealed class Step
    {
        public CustomSplit Custom { get; private init; }

        public bool Collapsed { get; private init; }

        public Regex? Regex { get; private init; }

        public static Step Create(string pattern)
        {
            if (pattern == Gpt2Pattern)
            {
                return new Step { Custom = CustomSplit.Gpt2 };
            }

            if (pattern == Llama3Pattern)
            {
                return new Step { Custom = CustomSplit.Llama3 };
            }

            bool collapsed = pattern.Contains(@"\p{", StringComparison.Ordinal);
            string translated = RegexTranslator.ToDotNet(collapsed ? RegexTranslator.CollapseCategories(pattern) : pattern);
            return new Step { Collapsed = collapsed, Regex = new Regex(translated, RegexOptions.CultureInvariant) };
        }
    }
}
