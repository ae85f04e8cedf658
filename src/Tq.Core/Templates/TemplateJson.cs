using System.Globalization;
using System.Text;

namespace Tq.Core.Templates;

/// <summary>
/// The <c>tojson</c> filter, formatted as llama.cpp's Jinja engine does: <c>", "</c> and <c>": "</c> separators
/// (Python's <c>json.dumps</c> defaults), keys in insertion order, non-ASCII characters written as they are
/// (unless <c>ensure_ascii=true</c>), control characters as <c>\n</c>, <c>\t</c>, ... or <c>\u00XX</c>, floats with
/// six significant digits. With <c>indent=n</c>: one item per line, <c>","</c> at line ends, empty containers as
/// <c>[]</c> / <c>{}</c>.
/// </summary>
internal static class TemplateJson
{
    public static string Serialize(object? value, int indent, bool ensureAscii) => Serialize(value, indent, ensureAscii, itemSeparator: null, keySeparator: ": ");

    /// <param name="value">The value to write.</param>
    /// <param name="indent">Spaces per level, or -1 for one line.</param>
    /// <param name="ensureAscii">Escape non-ASCII characters as <c>\uXXXX</c>.</param>
    /// <param name="itemSeparator">Between items (Python's <c>separators[0]</c>); <see langword="null"/> for the default: <c>", "</c> on one line, <c>","</c> when indenting.</param>
    /// <param name="keySeparator">Between a key and its value (Python's <c>separators[1]</c>).</param>
    public static string Serialize(object? value, int indent, bool ensureAscii, string? itemSeparator, string keySeparator)
    {
        var sb = new StringBuilder();
        new Writer(sb, indent, ensureAscii, itemSeparator ?? (indent < 0 ? ", " : ","), keySeparator).Write(value, 0);
        return sb.ToString();
    }

    private readonly record struct Writer(StringBuilder Sb, int Indent, bool EnsureAscii, string ItemSeparator, string KeySeparator)
    {
        public void Write(object? value, int level) => TemplateJson.Write(this, value, level);
    }

    private static void Write(Writer w, object? value, int level)
    {
        StringBuilder sb = w.Sb;
        int indent = w.Indent;
        bool ensureAscii = w.EnsureAscii;
        switch (value)
        {
            case null or Undefined:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(double.IsFinite(d) ? FormatFloat(d) : "null");
                break;
            case string s:
                WriteString(sb, s, ensureAscii);
                break;
            case List<object?> list:
                if (list.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }

                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    Separator(w, level + 1, i == 0);
                    Write(w, list[i], level + 1);
                }

                NewLine(sb, indent, level);
                sb.Append(']');
                break;
            case TemplateDictionary dict:
                if (dict.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }

                sb.Append('{');
                bool first = true;
                foreach (KeyValuePair<string, object?> pair in dict)
                {
                    Separator(w, level + 1, first);
                    first = false;
                    WriteString(sb, pair.Key, ensureAscii);
                    sb.Append(w.KeySeparator);
                    Write(w, pair.Value, level + 1);
                }

                NewLine(sb, indent, level);
                sb.Append('}');
                break;
            default:
                throw TemplateErrors.Type($"A {TemplateValue.TypeName(value)} cannot be serialized to JSON.");
        }
    }

    private static void Separator(Writer w, int level, bool first)
    {
        if (!first)
        {
            w.Sb.Append(w.ItemSeparator);
        }

        NewLine(w.Sb, w.Indent, level);
    }

    private static void NewLine(StringBuilder sb, int indent, int level)
    {
        if (indent >= 0)
        {
            sb.Append('\n').Append(' ', indent * level);
        }
    }

    // llama.cpp writes floats with a C++ ostream's default format (%g, 6 significant digits): 1.0 -> "1", 0.5 -> "0.5",
    // 1e20 -> "1e+20". Python's json.dumps would write "1.0".
    private static string FormatFloat(double d)
    {
        string s = d.ToString("G6", CultureInfo.InvariantCulture);
        int e = s.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
        {
            return s;
        }

        string exponent = s[(e + 1)..];
        char sign = exponent[0] == '-' ? '-' : '+';
        string digits = exponent.TrimStart('+', '-');
        return s[..e] + "e" + sign + (digits.Length < 2 ? "0" + digits : digits);
    }

    public static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ensureAscii && c > 0x7e))
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
