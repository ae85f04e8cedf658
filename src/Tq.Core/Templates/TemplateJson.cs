using System.Globalization;
using System.Text;

namespace Tq.Core.Templates;

/// <summary>
/// The <c>tojson</c> filter, formatted as llama.cpp's Jinja engine does: <c>", "</c> and <c>": "</c> separators
/// (Python's <c>json.dumps</c> defaults), keys in insertion order, non-ASCII characters written as they are
/// (unless <c>ensure_ascii=true</c>), control characters as <c>\n</c>, <c>\t</c>, ... or <c>\u00XX</c>.
/// With <c>indent=n</c>: one item per line, <c>","</c> at line ends, empty containers as <c>[]</c> / <c>{}</c>.
/// </summary>
internal static class TemplateJson
{
    public static string Serialize(object? value, int indent, bool ensureAscii)
    {
        var sb = new StringBuilder();
        Write(sb, value, indent, 0, ensureAscii);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, int indent, int level, bool ensureAscii)
    {
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
                sb.Append(double.IsFinite(d) ? TemplateValue.FormatDouble(d) : "null");
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
                    Separator(sb, indent, level + 1, i == 0);
                    Write(sb, list[i], indent, level + 1, ensureAscii);
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
                    Separator(sb, indent, level + 1, first);
                    first = false;
                    WriteString(sb, pair.Key, ensureAscii);
                    sb.Append(": ");
                    Write(sb, pair.Value, indent, level + 1, ensureAscii);
                }

                NewLine(sb, indent, level);
                sb.Append('}');
                break;
            default:
                throw TemplateErrors.Type($"A {TemplateValue.TypeName(value)} cannot be serialized to JSON.");
        }
    }

    private static void Separator(StringBuilder sb, int indent, int level, bool first)
    {
        if (!first)
        {
            sb.Append(',');
            if (indent < 0)
            {
                sb.Append(' ');
            }
        }

        NewLine(sb, indent, level);
    }

    private static void NewLine(StringBuilder sb, int indent, int level)
    {
        if (indent >= 0)
        {
            sb.Append('\n').Append(' ', indent * level);
        }
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
