using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tq.Core.Templates;

/// <summary>
/// Semantics of template values. Values are plain objects: <see langword="null"/> (none), <see cref="Undefined"/>,
/// <see cref="string"/>, <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>, <see cref="List{T}"/> of values,
/// <see cref="TemplateDictionary"/> and <see cref="TemplateFunction"/>.
/// </summary>
internal static class TemplateValue
{
    public static bool IsUndefined(object? value) => value is Undefined;

    public static bool IsNumber(object? value) => value is long or double;

    public static bool IsTruthy(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        TemplateDictionary dict => dict.Count > 0,
        _ => true,
    };

    /// <summary>
    /// What <c>{{ value }}</c> prints, as llama.cpp's engine: strings, numbers and booleans as text; a list as its
    /// printable items one after the other; none, undefined, mappings and functions as nothing.
    /// </summary>
    public static string ToOutput(object? value)
    {
        switch (value)
        {
            case string s:
                return s;
            case long or double or bool:
                return ToStr(value);
            case List<object?> list:
                var sb = new StringBuilder();
                foreach (object? item in list)
                {
                    sb.Append(ToOutput(item));
                }

                return sb.ToString();
            default:
                return string.Empty;
        }
    }

    /// <summary>Python's <c>str(value)</c>, used by <c>~</c>, <c>string</c> and string concatenation.</summary>
    public static string ToStr(object? value) => value switch
    {
        string s => s,
        Undefined => string.Empty,
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatDouble(d),
        _ => Repr(value),
    };

    /// <summary>
    /// A value's text in <c>+</c> / <c>~</c> concatenation: as <see cref="ToStr"/>, except that none and undefined
    /// contribute nothing (llama.cpp's rule, where Python would write <c>None</c>).
    /// </summary>
    public static string ToConcatString(object? value) => value is null or Undefined ? string.Empty : ToStr(value);

    /// <summary>Python's <c>repr</c> of lists and mappings (single-quoted strings, <c>True</c>/<c>None</c>).</summary>
    public static string Repr(object? value)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case string s:
                AppendPythonString(sb, s);
                break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }

                    AppendRepr(sb, list[i]);
                }

                sb.Append(']');
                break;
            case TemplateDictionary dict:
                sb.Append('{');
                bool first = true;
                foreach (KeyValuePair<string, object?> pair in dict)
                {
                    if (!first)
                    {
                        sb.Append(", ");
                    }

                    first = false;
                    AppendPythonString(sb, pair.Key);
                    sb.Append(": ");
                    AppendRepr(sb, pair.Value);
                }

                sb.Append('}');
                break;
            case TemplateFunction f:
                sb.Append("<function ").Append(f.Name).Append('>');
                break;
            default:
                sb.Append(ToStr(value));
                break;
        }
    }

    // As llama.cpp: single quotes around the raw text, or a JSON string when the text holds a single quote.
    private static void AppendPythonString(StringBuilder sb, string s)
    {
        if (s.Contains('\'', StringComparison.Ordinal))
        {
            TemplateJson.WriteString(sb, s, ensureAscii: false);
        }
        else
        {
            sb.Append('\'').Append(s).Append('\'');
        }
    }

    /// <summary>
    /// Float text as llama.cpp prints it: six decimals with trailing zeros removed, keeping one (<c>2.0</c>, <c>0.3</c>
    /// for 0.1 + 0.2, <c>1000.0</c>).
    /// </summary>
    public static string FormatDouble(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        string s = d.ToString("F6", CultureInfo.InvariantCulture).TrimEnd('0');
        return s.EndsWith('.') ? s + "0" : s;
    }

    public static string TypeName(object? value) => value switch
    {
        null => "none",
        Undefined => "undefined",
        string => "string",
        bool => "boolean",
        long => "integer",
        double => "float",
        List<object?> => "list",
        TemplateDictionary => "mapping",
        TemplateFunction => "function",
        _ => value.GetType().Name,
    };

    public static new bool Equals(object? a, object? b)
    {
        if (a is Undefined || b is Undefined)
        {
            return a is Undefined && b is Undefined;
        }

        if (a is null || b is null)
        {
            return a is null && b is null;
        }

        if (a is bool ba)
        {
            return b is bool bb && ba == bb;
        }

        if (b is bool)
        {
            return false;
        }

        if (IsNumber(a) && IsNumber(b))
        {
            return a is long la && b is long lb ? la == lb : ToDouble(a) == ToDouble(b);
        }

        if (a is string sa)
        {
            return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
        }

        if (a is List<object?> listA)
        {
            if (b is not List<object?> listB || listA.Count != listB.Count)
            {
                return false;
            }

            for (int i = 0; i < listA.Count; i++)
            {
                if (!Equals(listA[i], listB[i]))
                {
                    return false;
                }
            }

            return true;
        }

        if (a is TemplateDictionary dictA)
        {
            if (b is not TemplateDictionary dictB || dictA.Count != dictB.Count)
            {
                return false;
            }

            foreach (KeyValuePair<string, object?> pair in dictA)
            {
                if (!dictB.TryGetValue(pair.Key, out object? other) || !Equals(pair.Value, other))
                {
                    return false;
                }
            }

            return true;
        }

        return ReferenceEquals(a, b);
    }

    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            return a is long la && b is long lb ? la.CompareTo(lb) : ToDouble(a).CompareTo(ToDouble(b));
        }

        if (a is string sa && b is string sb)
        {
            return string.CompareOrdinal(sa, sb);
        }

        if (a is bool ba && b is bool bb)
        {
            return ba.CompareTo(bb);
        }

        if (a is List<object?> listA && b is List<object?> listB)
        {
            for (int i = 0; i < Math.Min(listA.Count, listB.Count); i++)
            {
                int c = Compare(listA[i], listB[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            return listA.Count.CompareTo(listB.Count);
        }

        throw TemplateErrors.Type($"Cannot compare {TypeName(a)} with {TypeName(b)}.");
    }

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw TemplateErrors.Type($"Expected a number, got {TypeName(value)}."),
    };

    public static long ToLong(object? value) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => (long)d,
        _ => throw TemplateErrors.Type($"Expected an integer, got {TypeName(value)}."),
    };

    /// <summary>The items a <c>for</c> loop visits: list items, mapping keys, string characters; undefined and none are empty.</summary>
    public static List<object?> Iterate(object? value)
    {
        switch (value)
        {
            case List<object?> list:
                return list;
            case TemplateDictionary dict:
                return [.. dict.Keys];
            case string s:
                var chars = new List<object?>(s.Length);
                foreach (char c in s)
                {
                    chars.Add(c.ToString());
                }

                return chars;
            case null or Undefined:
                return [];
            default:
                throw TemplateErrors.Type($"Value of type {TypeName(value)} is not iterable.");
        }
    }

    public static long Length(object? value) => value switch
    {
        string s => s.Length,
        List<object?> list => list.Count,
        TemplateDictionary dict => dict.Count,
        null or Undefined => 0,
        _ => throw TemplateErrors.Type($"Value of type {TypeName(value)} has no length."),
    };

    public static bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string s:
                return item is string sub
                    ? s.Contains(sub, StringComparison.Ordinal)
                    : throw TemplateErrors.Type($"'in <string>' requires a string on the left, got {TypeName(item)}.");
            case List<object?> list:
                foreach (object? element in list)
                {
                    if (Equals(element, item))
                    {
                        return true;
                    }
                }

                return false;
            case TemplateDictionary dict:
                return item is string key && dict.ContainsKey(key);
            case null or Undefined:
                return false;
            default:
                throw TemplateErrors.Type($"Cannot test membership in a value of type {TypeName(container)}.");
        }
    }

    /// <summary>Converts JSON input (messages, tools, extra variables) to template values, keeping key order.</summary>
    public static object? FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var dict = new TemplateDictionary(obj.Count);
                foreach (KeyValuePair<string, JsonNode?> pair in obj)
                {
                    dict[pair.Key] = FromJson(pair.Value);
                }

                return dict;
            case JsonArray array:
                var list = new List<object?>(array.Count);
                foreach (JsonNode? item in array)
                {
                    list.Add(FromJson(item));
                }

                return list;
            default:
                JsonValue value = node.AsValue();
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        if (value.TryGetValue(out string? text))
                        {
                            return text;
                        }

                        // Strings built from other CLR values (dates, GUIDs, enums): go through their JSON text.
                        using (JsonDocument doc = JsonDocument.Parse(value.ToJsonString()))
                        {
                            return doc.RootElement.GetString();
                        }
                    case JsonValueKind.True:
                        return true;
                    case JsonValueKind.False:
                        return false;
                    case JsonValueKind.Null:
                        return null;
                    case JsonValueKind.Number:
                        if (value.TryGetValue(out JsonElement element))
                        {
                            return element.TryGetInt64(out long l) ? (object)l : element.GetDouble();
                        }

                        // Numbers built from CLR values (JsonValue.Create(3)) have no JsonElement: go through their JSON text.
                        using (JsonDocument doc = JsonDocument.Parse(value.ToJsonString()))
                        {
                            return doc.RootElement.TryGetInt64(out long l) ? (object)l : doc.RootElement.GetDouble();
                        }

                    default:
                        throw new ArgumentException($"Unsupported JSON value kind {value.GetValueKind()}.", nameof(node));
                }
        }
    }

    /// <summary>Deep copy, so polyfills can rewrite messages without touching the caller's data.</summary>
    public static object? DeepCopy(object? value) => value switch
    {
        List<object?> list => list.Select(DeepCopy).ToList(),
        TemplateDictionary dict => CopyDict(dict),
        _ => value,
    };

    private static TemplateDictionary CopyDict(TemplateDictionary dict)
    {
        var copy = new TemplateDictionary(dict.Count);
        foreach (KeyValuePair<string, object?> pair in dict)
        {
            copy[pair.Key] = DeepCopy(pair.Value);
        }

        return copy;
    }
}
