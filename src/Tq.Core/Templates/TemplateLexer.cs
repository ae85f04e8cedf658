using System.Globalization;
using System.Text;

namespace Tq.Core.Templates;

/// <summary>
/// Splits a Jinja template into text and tag tokens, applying whitespace control the way llama.cpp's Jinja engine
/// (<c>common/jinja</c>, a port of huggingface.js's) and Hugging Face's renderer configure it: line ends normalised to
/// <c>\n</c>, <c>trim_blocks</c> and <c>lstrip_blocks</c> on, a single trailing newline of the source dropped,
/// <c>-</c> strips all whitespace on that side, <c>+</c> disables <c>lstrip_blocks</c>.
/// </summary>
internal static class TemplateLexer
{
    private static readonly string[] s_operators =
    [
        "**", "//", "==", "!=", "<=", ">=",
        "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|",
    ];

    public static List<TemplateToken> Tokenize(string source)
    {
        // keep_trailing_newline = false: one trailing newline of the template is not part of the output.
        int length = source.Length;
        if (length > 0 && source[length - 1] == '\n')
        {
            length--;
            if (length > 0 && source[length - 1] == '\r')
            {
                length--;
            }
        }

        var tokens = new List<TemplateToken>();
        int pos = 0;
        bool stripNextLeading = false;
        bool trimNextNewline = false;
        while (pos < length)
        {
            int open = FindTagOpen(source, pos, length);
            int textEnd = open < 0 ? length : open;
            string text = source[pos..textEnd];
            int textStart = pos;

            // First the side facing the next tag: '-' strips all whitespace; otherwise lstrip_blocks drops the
            // whitespace between a line start and a block or comment tag (not an expression tag), a line start being
            // a newline or the very start of the template.
            char kind = '\0';
            int inner = 0;
            if (open >= 0)
            {
                kind = source[open + 1];
                inner = open + 2;
                char modifier = inner < length ? source[inner] : '\0';
                if (modifier == '-')
                {
                    text = TrimEndSpace(text);
                    inner++;
                }
                else if (modifier == '+')
                {
                    inner++;
                }
                else if (kind != '{')
                {
                    text = LstripBlock(text, textStart == 0);
                }
            }

            // Then the side facing the previous tag: '-' strips all whitespace; otherwise trim_blocks drops the
            // newline that follows a block or comment tag.
            if (stripNextLeading)
            {
                text = TrimStartSpace(text);
            }
            else if (trimNextNewline && text.StartsWith('\n'))
            {
                text = text[1..];
            }

            stripNextLeading = false;
            trimNextNewline = false;
            AddText(tokens, text, textStart);
            if (open < 0)
            {
                break;
            }

            if (kind == '#')
            {
                int close = source.IndexOf("#}", inner, StringComparison.Ordinal);
                if (close < 0 || close + 2 > length)
                {
                    throw TemplateErrors.Syntax(source, open, "Unclosed comment: '{#' without '#}'.");
                }

                stripNextLeading = close > inner && source[close - 1] == '-';
                trimNextNewline = !stripNextLeading;
                pos = close + 2;
                continue;
            }

            bool isBlock = kind == '%';
            tokens.Add(new TemplateToken(isBlock ? TemplateTokenKind.BlockBegin : TemplateTokenKind.VariableBegin, isBlock ? "{%" : "{{", open));
            pos = LexInside(source, inner, length, isBlock ? '%' : '}', tokens, out bool dashClose);
            tokens.Add(new TemplateToken(isBlock ? TemplateTokenKind.BlockEnd : TemplateTokenKind.VariableEnd, isBlock ? "%}" : "}}", pos - 2));
            stripNextLeading = dashClose;
            trimNextNewline = isBlock && !dashClose;
        }

        tokens.Add(new TemplateToken(TemplateTokenKind.End, string.Empty, length));
        return tokens;
    }

    private static void AddText(List<TemplateToken> tokens, string text, int offset)
    {
        if (text.Length > 0)
        {
            tokens.Add(new TemplateToken(TemplateTokenKind.Text, text, offset));
        }
    }

    private static int FindTagOpen(string source, int from, int length)
    {
        for (int i = from; i + 1 < length; i++)
        {
            if (source[i] == '{')
            {
                char next = source[i + 1];
                if (next is '{' or '%' or '#')
                {
                    return i;
                }
            }
        }

        return -1;
    }

    private static string LstripBlock(string text, bool startsTemplate)
    {
        int i = text.Length;
        while (i > 0 && text[i - 1] is ' ' or '\t' or '\v' or '\f')
        {
            i--;
        }

        return (i == 0 && startsTemplate) || (i > 0 && text[i - 1] == '\n') ? text[..i] : text;
    }

    // '-' strips these, as llama.cpp does.
    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\r';

    private static string TrimStartSpace(string text)
    {
        int i = 0;
        while (i < text.Length && IsSpace(text[i]))
        {
            i++;
        }

        return text[i..];
    }

    private static string TrimEndSpace(string text)
    {
        int i = text.Length;
        while (i > 0 && IsSpace(text[i - 1]))
        {
            i--;
        }

        return text[..i];
    }

    private static int LexInside(string source, int pos, int length, char closeChar, List<TemplateToken> tokens, out bool dashClose)
    {
        // '}}' inside a dict literal ({'a': {}}) closes braces, not the tag.
        int braces = 0;
        while (true)
        {
            while (pos < length && char.IsWhiteSpace(source[pos]))
            {
                pos++;
            }

            if (pos >= length)
            {
                throw TemplateErrors.Syntax(source, pos, closeChar == '%' ? "Unclosed block tag: missing '%}'." : "Unclosed expression: missing '}}'.");
            }

            char c = source[pos];
            if ((c == '-' || c == '+') && pos + 2 < length && source[pos + 1] == closeChar && source[pos + 2] == '}')
            {
                dashClose = c == '-';
                return pos + 3;
            }

            if (c == closeChar && pos + 1 < length && source[pos + 1] == '}' && (braces == 0 || closeChar == '%'))
            {
                dashClose = false;
                return pos + 2;
            }

            if (char.IsLetter(c) || c == '_')
            {
                int start = pos;
                while (pos < length && (char.IsLetterOrDigit(source[pos]) || source[pos] == '_'))
                {
                    pos++;
                }

                tokens.Add(new TemplateToken(TemplateTokenKind.Name, source[start..pos], start));
                continue;
            }

            if (char.IsAsciiDigit(c))
            {
                pos = LexNumber(source, pos, length, tokens);
                continue;
            }

            if (c is '"' or '\'')
            {
                pos = LexString(source, pos, length, tokens);
                continue;
            }

            string? op = null;
            foreach (string candidate in s_operators)
            {
                if (string.CompareOrdinal(source, pos, candidate, 0, candidate.Length) == 0 && pos + candidate.Length <= length)
                {
                    op = candidate;
                    break;
                }
            }

            if (op is null)
            {
                throw TemplateErrors.Syntax(source, pos, $"Unexpected character '{c}'.");
            }

            if (op == "{")
            {
                braces++;
            }
            else if (op == "}" && braces > 0)
            {
                braces--;
            }

            tokens.Add(new TemplateToken(TemplateTokenKind.Operator, op, pos));
            pos += op.Length;
        }
    }

    private static int LexNumber(string source, int pos, int length, List<TemplateToken> tokens)
    {
        int start = pos;
        while (pos < length && (char.IsAsciiDigit(source[pos]) || source[pos] == '_'))
        {
            pos++;
        }

        bool isFloat = false;
        if (pos + 1 < length && source[pos] == '.' && char.IsAsciiDigit(source[pos + 1]))
        {
            isFloat = true;
            pos++;
            while (pos < length && (char.IsAsciiDigit(source[pos]) || source[pos] == '_'))
            {
                pos++;
            }
        }

        if (pos < length && (source[pos] == 'e' || source[pos] == 'E'))
        {
            int save = pos;
            pos++;
            if (pos < length && (source[pos] == '+' || source[pos] == '-'))
            {
                pos++;
            }

            if (pos < length && char.IsAsciiDigit(source[pos]))
            {
                isFloat = true;
                while (pos < length && char.IsAsciiDigit(source[pos]))
                {
                    pos++;
                }
            }
            else
            {
                pos = save;
            }
        }

        string text = source[start..pos].Replace("_", string.Empty, StringComparison.Ordinal);
        if (isFloat)
        {
            tokens.Add(new TemplateToken(TemplateTokenKind.Float, text, start, FloatValue: double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }
        else
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            {
                throw TemplateErrors.Syntax(source, start, $"Integer literal '{text}' is out of range.");
            }

            tokens.Add(new TemplateToken(TemplateTokenKind.Integer, text, start, IntegerValue: value));
        }

        return pos;
    }

    private static int LexString(string source, int pos, int length, List<TemplateToken> tokens)
    {
        int start = pos;
        char quote = source[pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (pos >= length)
            {
                throw TemplateErrors.Syntax(source, start, "Unterminated string literal.");
            }

            char c = source[pos++];
            if (c == quote)
            {
                break;
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            if (pos >= length)
            {
                throw TemplateErrors.Syntax(source, start, "Unterminated string literal.");
            }

            char e = source[pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': break;
                case 'u' when pos + 4 <= length && IsHex(source, pos, 4):
                    sb.Append((char)int.Parse(source.AsSpan(pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    pos += 4;
                    break;
                case 'x' when pos + 2 <= length && IsHex(source, pos, 2):
                    sb.Append((char)int.Parse(source.AsSpan(pos, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    pos += 2;
                    break;
                default:
                    // Python keeps unknown escapes verbatim.
                    sb.Append('\\').Append(e);
                    break;
            }
        }

        tokens.Add(new TemplateToken(TemplateTokenKind.String, sb.ToString(), start));
        return pos;
    }

    private static bool IsHex(string s, int pos, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (!char.IsAsciiHexDigit(s[pos + i]))
            {
                return false;
            }
        }

        return true;
    }
}
