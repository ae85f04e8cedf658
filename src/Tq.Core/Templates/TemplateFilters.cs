using System.Globalization;
using System.Text;

namespace Tq.Core.Templates;

/// <summary>Jinja filters (<c>x | trim</c>, <c>tools | tojson(indent=4)</c>, ...).</summary>
internal static class TemplateFilters
{
    public static object? Apply(string name, object? value, TemplateArguments args, RenderState state)
    {
        switch (name)
        {
            case "trim":
                object? chars = args.Get(0, "chars");
                return TemplateMembers.StripChars(TemplateValue.ToStr(value), chars is string s ? s : null, left: true, right: true);
            case "tojson":
                args.ExpectOnly(name, 1, "indent", "ensure_ascii", "separators", "sort_keys");
                object? indent = args.Get(0, "indent");
                object? toSerialize = args.GetKeyword("sort_keys") is true ? SortKeys(value) : value;
                (string? itemSeparator, string keySeparator) = args.GetKeyword("separators") switch
                {
                    List<object?> { Count: 2 } pair when pair[0] is string item && pair[1] is string key => (item, key),
                    null or Undefined => ((string?)null, ": "),
                    _ => throw TemplateErrors.Type("tojson separators must be a pair of strings."),
                };
                return TemplateJson.Serialize(
                    toSerialize,
                    indent is null or Undefined ? -1 : (int)TemplateValue.ToLong(indent),
                    args.GetKeyword("ensure_ascii") is true,
                    itemSeparator,
                    keySeparator);
            case "format":
                return TemplateFormat.Printf(TemplateValue.ToStr(value), args.Positional);
            case "length":
            case "count":
                return TemplateValue.Length(value);
            case "upper":
                return TemplateValue.ToStr(value).ToUpperInvariant();
            case "lower":
                return TemplateValue.ToStr(value).ToLowerInvariant();
            case "capitalize":
                return TemplateMembers.Capitalize(TemplateValue.ToStr(value));
            case "title":
                return TemplateMembers.Title(TemplateValue.ToStr(value));
            case "replace":
                return TemplateMembers.Replace(
                    TemplateValue.ToStr(value),
                    TemplateValue.ToStr(args.Get(0, "old")),
                    TemplateValue.ToStr(args.Get(1, "new")),
                    args.Get(2, "count") is long count ? count : -1);
            case "join":
                string separator = TemplateValue.ToStr(args.Get(0, "d", string.Empty));
                object? attribute = args.Get(1, "attribute");
                IEnumerable<object?> items = TemplateValue.Iterate(value);
                if (attribute is string path)
                {
                    items = items.Select(item => TemplateMembers.GetPath(item, path));
                }

                return string.Join(separator, items.Select(TemplateValue.ToStr));
            case "default":
            case "d":
                bool boolean = TemplateValue.IsTruthy(args.Get(1, "boolean", false));
                // llama.cpp treats none like undefined here (Jinja would keep none).
                bool useDefault = boolean ? !TemplateValue.IsTruthy(value) : value is Undefined or null;
                return useDefault ? args.Get(0, "default_value", string.Empty) : value;
            case "first":
                return value switch
                {
                    List<object?> list => list.Count > 0 ? list[0] : Undefined.Instance,
                    string str => str.Length > 0 ? str[..1] : Undefined.Instance,
                    _ => TemplateValue.Iterate(value) is { Count: > 0 } any ? any[0] : Undefined.Instance,
                };
            case "last":
                return value switch
                {
                    List<object?> list => list.Count > 0 ? list[^1] : Undefined.Instance,
                    string str => str.Length > 0 ? str[^1..] : Undefined.Instance,
                    _ => TemplateValue.Iterate(value) is { Count: > 0 } any ? any[^1] : Undefined.Instance,
                };
            case "items":
                return value switch
                {
                    TemplateDictionary dict => dict.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList(),
                    null or Undefined => new List<object?>(),
                    _ => throw TemplateErrors.Type($"Filter 'items' needs a mapping, got {TemplateValue.TypeName(value)}."),
                };
            case "string":
                return TemplateValue.ToStr(value);
            case "int":
                return ToInt(value, args.Get(0, "default", 0L));
            case "float":
                return ToFloat(value, args.Get(0, "default", 0.0));
            case "list":
                return new List<object?>(TemplateValue.Iterate(value));
            case "safe":
                return value;
            case "e":
            case "escape":
                return Escape(TemplateValue.ToStr(value));
            case "abs":
                return value switch
                {
                    long l => (object)Math.Abs(l),
                    double dbl => Math.Abs(dbl),
                    _ => throw TemplateErrors.Type($"Filter 'abs' needs a number, got {TemplateValue.TypeName(value)}."),
                };
            case "round":
                int precision = (int)TemplateValue.ToLong(args.Get(0, "precision", 0L));
                string method = TemplateValue.ToStr(args.Get(1, "method", "common"));
                double x = TemplateValue.ToDouble(value);
                double factor = Math.Pow(10, precision);
                return method switch
                {
                    "ceil" => Math.Ceiling(x * factor) / factor,
                    "floor" => Math.Floor(x * factor) / factor,
                    _ => Math.Round(x, precision, MidpointRounding.AwayFromZero),
                };
            case "selectattr":
            case "rejectattr":
                return SelectAttr(value, args, name == "selectattr");
            case "select":
            case "reject":
                return Select(value, args, name == "select");
            case "map":
                return Map(value, args, state);
            case "unique":
                var unique = new List<object?>();
                foreach (object? item in TemplateValue.Iterate(value))
                {
                    if (!unique.Any(u => TemplateValue.Equals(u, item)))
                    {
                        unique.Add(item);
                    }
                }

                return unique;
            case "reverse":
                return value is string text ? new string(text.Reverse().ToArray()) : Enumerable.Reverse(TemplateValue.Iterate(value)).ToList();
            case "sort":
                return Sort(value, args);
            case "dictsort":
                return value is TemplateDictionary toSort
                    ? toSort.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList()
                    : throw TemplateErrors.Type("Filter 'dictsort' needs a mapping.");
            case "sum":
                object? total = args.Get(1, "start", 0L);
                foreach (object? item in TemplateValue.Iterate(value))
                {
                    total = TemplateArithmetic.Apply("+", total, args.Get(0, "attribute") is string attr ? TemplateMembers.GetPath(item, attr) : item);
                }

                return total;
            case "min":
            case "max":
                List<object?> values = TemplateValue.Iterate(value);
                if (values.Count == 0)
                {
                    return Undefined.Instance;
                }

                object? best = values[0];
                foreach (object? item in values)
                {
                    int c = TemplateValue.Compare(item, best);
                    if (name == "min" ? c < 0 : c > 0)
                    {
                        best = item;
                    }
                }

                return best;
            case "indent":
                return Indent(TemplateValue.ToStr(value), args);
            case "wordcount":
                return (long)TemplateValue.ToStr(value).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            default:
                throw TemplateErrors.Type($"Unsupported filter '{name}'.");
        }
    }

    // markupsafe.escape: only the five HTML-special characters.
    private static string Escape(string s) => s
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\"", "&#34;", StringComparison.Ordinal)
        .Replace("'", "&#39;", StringComparison.Ordinal);

    private static object? SortKeys(object? value) => value switch
    {
        TemplateDictionary dict => Rebuild(dict.OrderBy(p => p.Key, StringComparer.Ordinal)),
        List<object?> list => list.Select(SortKeys).ToList(),
        _ => value,
    };

    private static TemplateDictionary Rebuild(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var dict = new TemplateDictionary();
        foreach (KeyValuePair<string, object?> pair in pairs)
        {
            dict[pair.Key] = SortKeys(pair.Value);
        }

        return dict;
    }

    private static object? ToInt(object? value, object? fallback) => value switch
    {
        long l => l,
        bool b => b ? 1L : 0L,
        double d => (long)Math.Truncate(d),
        string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long parsed) => parsed,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsedDouble) => (long)Math.Truncate(parsedDouble),
        _ => fallback,
    };

    private static object? ToFloat(object? value, object? fallback) => value switch
    {
        long l => (double)l,
        bool b => b ? 1.0 : 0.0,
        double d => d,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => parsed,
        _ => fallback,
    };

    private static List<object?> SelectAttr(object? value, TemplateArguments args, bool keep)
    {
        string path = args.Get(0, "attribute") as string ?? throw TemplateErrors.Type("selectattr/rejectattr need an attribute name.");
        string? test = args.Positional.Count > 1 ? args.Positional[1] as string : null;
        var testArgs = new TemplateArguments(args.Positional.Skip(2).ToList(), []);
        var result = new List<object?>();
        foreach (object? item in TemplateValue.Iterate(value))
        {
            object? attribute = TemplateMembers.GetPath(item, path);
            bool passes = test is null ? TemplateValue.IsTruthy(attribute) : TemplateTests.Apply(test, attribute, testArgs);
            if (passes == keep)
            {
                result.Add(item);
            }
        }

        return result;
    }

    private static List<object?> Select(object? value, TemplateArguments args, bool keep)
    {
        string? test = args.Positional.Count > 0 ? args.Positional[0] as string : null;
        var testArgs = new TemplateArguments(args.Positional.Skip(1).ToList(), []);
        var result = new List<object?>();
        foreach (object? item in TemplateValue.Iterate(value))
        {
            bool passes = test is null ? TemplateValue.IsTruthy(item) : TemplateTests.Apply(test, item, testArgs);
            if (passes == keep)
            {
                result.Add(item);
            }
        }

        return result;
    }

    private static List<object?> Map(object? value, TemplateArguments args, RenderState state)
    {
        List<object?> items = TemplateValue.Iterate(value);
        if (args.GetKeyword("attribute") is string path)
        {
            object? fallback = args.GetKeyword("default", Undefined.Instance);
            return items.Select(item => TemplateMembers.GetPath(item, path) is Undefined && fallback is not Undefined ? fallback : TemplateMembers.GetPath(item, path)).ToList();
        }

        if (args.Positional.Count == 0 || args.Positional[0] is not string filter)
        {
            throw TemplateErrors.Type("Filter 'map' needs a filter name or attribute=.");
        }

        var filterArgs = new TemplateArguments(args.Positional.Skip(1).ToList(), args.Named);
        return items.Select(item => Apply(filter, item, filterArgs, state)).ToList();
    }

    private static List<object?> Sort(object? value, TemplateArguments args)
    {
        bool reverse = TemplateValue.IsTruthy(args.Get(0, "reverse", false));
        string? attribute = args.Get(2, "attribute") as string;
        var items = new List<object?>(TemplateValue.Iterate(value));
        Comparison<object?> compare = attribute is null
            ? TemplateValue.Compare
            : (a, b) => TemplateValue.Compare(TemplateMembers.GetPath(a, attribute), TemplateMembers.GetPath(b, attribute));

        // List.Sort is not stable; Python's sort is: order by key, then by original position.
        var indexed = items.Select((item, i) => (item, i)).ToList();
        indexed.Sort((a, b) =>
        {
            int c = compare(a.item, b.item);
            return c != 0 ? (reverse ? -c : c) : a.i.CompareTo(b.i);
        });
        return indexed.Select(p => p.item).ToList();
    }

    private static string Indent(string text, TemplateArguments args)
    {
        object? width = args.Get(0, "width", 4L);
        string pad = width is string w ? w : new string(' ', (int)TemplateValue.ToLong(width));
        bool first = TemplateValue.IsTruthy(args.Get(1, "first", false));
        bool blank = TemplateValue.IsTruthy(args.Get(2, "blank", false));
        string[] lines = text.Split('\n');
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('\n');
            }

            bool indentThis = (i > 0 || first) && (blank || lines[i].Length > 0);
            if (indentThis)
            {
                sb.Append(pad);
            }

            sb.Append(lines[i]);
        }

        return sb.ToString();
    }
}
