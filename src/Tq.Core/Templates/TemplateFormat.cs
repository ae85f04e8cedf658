using System.Globalization;
using System.Text;

namespace Tq.Core.Templates;

/// <summary>Python string formatting used by some templates: <c>"{} {name}".format(...)</c> and <c>"%s" | format(...)</c>.</summary>
internal static class TemplateFormat
{
    /// <summary><c>str.format</c> with <c>{}</c>, <c>{0}</c> and <c>{name}</c> fields (no format specs) and <c>{{</c>/<c>}}</c> escapes.</summary>
    public static string Format(string format, TemplateArguments args)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '{' && i + 1 < format.Length && format[i + 1] == '{')
            {
                sb.Append('{');
                i++;
                continue;
            }

            if (c == '}' && i + 1 < format.Length && format[i + 1] == '}')
            {
                sb.Append('}');
                i++;
                continue;
            }

            if (c != '{')
            {
                sb.Append(c);
                continue;
            }

            int close = format.IndexOf('}', i + 1);
            if (close < 0)
            {
                throw TemplateErrors.Type("Single '{' in format string.");
            }

            string field = format[(i + 1)..close];
            if (field.Contains(':', StringComparison.Ordinal) || field.Contains('!', StringComparison.Ordinal))
            {
                throw TemplateErrors.Type($"Format specifications ('{{{field}}}') are not supported.");
            }

            object? value;
            if (field.Length == 0)
            {
                value = auto < args.Positional.Count ? args.Positional[auto++] : throw TemplateErrors.Type("Not enough arguments for format string.");
            }
            else if (int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                value = index < args.Positional.Count ? args.Positional[index] : throw TemplateErrors.Type($"Format field {index} has no argument.");
            }
            else
            {
                value = args.Has(-1, field) ? args.Get(-1, field) : throw TemplateErrors.Type($"Format field '{field}' has no argument.");
            }

            sb.Append(TemplateValue.ToStr(value));
            i = close;
        }

        return sb.ToString();
    }

    /// <summary>printf-style <c>%s</c>, <c>%d</c>, <c>%i</c>, <c>%r</c>, <c>%f</c> and <c>%%</c>, as Jinja's <c>format</c> filter.</summary>
    public static string Printf(string format, List<object?> values)
    {
        int next = 0;
        return ExpandDirectives(format, (string f, ref int i) =>
        {
            char spec = f[i];
            if (spec == '%')
            {
                return "%";
            }

            object? value = next < values.Count ? values[next++] : throw TemplateErrors.Type("Not enough arguments for format string.");
            return spec switch
            {
                's' => TemplateValue.ToStr(value),
                'r' => TemplateValue.Repr(value),
                'd' or 'i' => TemplateValue.ToLong(value is double d ? Math.Truncate(d) : value).ToString(CultureInfo.InvariantCulture),
                'f' => TemplateValue.ToDouble(value).ToString("F6", CultureInfo.InvariantCulture),
                _ => throw TemplateErrors.Type($"Unsupported format directive '%{spec}'."),
            };
        });
    }

    /// <summary>
    /// <paramref name="format"/> with each <c>%</c> directive replaced by what <paramref name="expand"/> returns for it
    /// (printf's and strftime's scanning); a <c>%</c> at the very end stays as it is.
    /// </summary>
    internal static string ExpandDirectives(string format, Directive expand)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length)
            {
                sb.Append(c);
                continue;
            }

            i++;
            sb.Append(expand(format, ref i));
        }

        return sb.ToString();
    }

    /// <summary>The text of the directive at <paramref name="i"/> (just after its <c>%</c>); moves <paramref name="i"/> to the directive's last character when it reads on.</summary>
    internal delegate string Directive(string format, ref int i);
}
