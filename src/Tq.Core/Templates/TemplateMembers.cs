using System.Globalization;
using System.Text;

namespace Tq.Core.Templates;

/// <summary>Attribute and item access, slicing, and the Python methods of strings, lists and mappings.</summary>
internal static class TemplateMembers
{
    public static object? GetAttribute(object? target, string name) => target switch
    {
        TemplateDictionary dict => dict.TryGetValue(name, out object? value) ? value : Undefined.Instance,
        _ => Undefined.Instance,
    };

    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case TemplateDictionary dict:
                string? name = key switch
                {
                    string s => s,
                    long or double or bool => TemplateValue.ToStr(key),
                    _ => null,
                };
                return name is not null && dict.TryGetValue(name, out object? value) ? value : Undefined.Instance;
            case List<object?> list when key is long or bool:
                long index = TemplateValue.ToLong(key);
                if (index < 0)
                {
                    index += list.Count;
                }

                return index >= 0 && index < list.Count ? list[(int)index] : Undefined.Instance;
            case string str when key is long or bool:
                long at = TemplateValue.ToLong(key);
                if (at < 0)
                {
                    at += str.Length;
                }

                return at >= 0 && at < str.Length ? str[(int)at].ToString() : Undefined.Instance;
            case List<object?> or string:
                throw TemplateErrors.Type($"Indices must be integers, got {TemplateValue.TypeName(key)}.");
            default:
                return Undefined.Instance;
        }
    }

    public static object? Slice(object? target, long? start, long? stop, long step)
    {
        if (step == 0)
        {
            throw TemplateErrors.Type("Slice step cannot be zero.");
        }

        int length = target switch
        {
            List<object?> list => list.Count,
            string s => s.Length,
            null or Undefined => -1,
            _ => throw TemplateErrors.Type($"Cannot slice a {TemplateValue.TypeName(target)}."),
        };
        if (length < 0)
        {
            return Undefined.Instance;
        }

        var indices = SliceIndices(length, start, stop, step);
        if (target is string str)
        {
            var sb = new StringBuilder(indices.Count);
            foreach (int i in indices)
            {
                sb.Append(str[i]);
            }

            return sb.ToString();
        }

        var source = (List<object?>)target!;
        var result = new List<object?>(indices.Count);
        foreach (int i in indices)
        {
            result.Add(source[i]);
        }

        return result;
    }

    // Python's slice.indices.
    private static List<int> SliceIndices(int length, long? start, long? stop, long step)
    {
        long lower = step > 0 ? 0 : -1;
        long upper = step > 0 ? length : length - 1;
        long Clamp(long? bound, long fallback)
        {
            if (bound is null)
            {
                return fallback;
            }

            long b = bound.Value;
            if (b < 0)
            {
                b += length;
                return b < lower ? lower : b;
            }

            return b > upper ? upper : b;
        }

        long from = Clamp(start, step > 0 ? lower : upper);
        long to = Clamp(stop, step > 0 ? upper : lower);
        var indices = new List<int>();
        if (step > 0)
        {
            for (long i = from; i < to; i += step)
            {
                indices.Add((int)i);
            }
        }
        else
        {
            for (long i = from; i > to; i += step)
            {
                indices.Add((int)i);
            }
        }

        return indices;
    }

    public static object? CallMethod(object? target, string name, TemplateArguments args) => target switch
    {
        string s => CallStringMethod(s, name, args),
        TemplateDictionary dict => CallDictMethod(dict, name, args),
        List<object?> list => CallListMethod(list, name, args),
        Undefined => throw TemplateErrors.Type($"Cannot call method '{name}' on an undefined value."),
        _ => throw TemplateErrors.Type($"A {TemplateValue.TypeName(target)} has no method '{name}'."),
    };

    private static object? CallStringMethod(string s, string name, TemplateArguments args)
    {
        switch (name)
        {
            case "startswith":
            case "endswith":
                object? affix = args.Get(0, "prefix");
                bool starts = name == "startswith";
                if (affix is List<object?> options)
                {
                    return options.Any(o => Affix(s, Str(o), starts));
                }

                return Affix(s, Str(affix), starts);
            case "strip":
            case "lstrip":
            case "rstrip":
                object? chars = args.Get(0, "chars");
                return StripChars(s, chars is null or Undefined ? null : Str(chars), name != "rstrip", name != "lstrip");
            case "split":
                return Split(s, args.Get(0, "sep"), args.Get(1, "maxsplit") is long max ? max : -1);
            case "rsplit":
                return RSplit(s, args.Get(0, "sep"), args.Get(1, "maxsplit") is long rmax ? rmax : -1);
            case "splitlines":
                List<object?> lines = s.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n').Select(l => (object?)l).ToList();
                if (lines[^1] is "")
                {
                    lines.RemoveAt(lines.Count - 1);
                }

                return lines;
            case "format":
                return TemplateFormat.Format(s, args);
            case "replace":
                long count = args.Get(2, "count") is long c ? c : -1;
                return Replace(s, Str(args.Get(0, "old")), Str(args.Get(1, "new")), count);
            case "upper":
                return s.ToUpperInvariant();
            case "lower":
                return s.ToLowerInvariant();
            case "title":
                return Title(s);
            case "capitalize":
                return Capitalize(s);
            case "find":
                return (long)s.IndexOf(Str(args.Get(0, "sub")), StringComparison.Ordinal);
            case "count":
                string sub = Str(args.Get(0, "sub"));
                return sub.Length == 0 ? s.Length + 1L : (long)((s.Length - s.Replace(sub, string.Empty, StringComparison.Ordinal).Length) / sub.Length);
            case "join":
                return string.Join(s, TemplateValue.Iterate(args.Get(0, "iterable")).Select(TemplateValue.ToStr));
            case "isdigit":
                return s.Length > 0 && s.All(char.IsDigit);
            case "isalpha":
                return s.Length > 0 && s.All(char.IsLetter);
            case "isspace":
                return s.Length > 0 && s.All(char.IsWhiteSpace);
            default:
                throw TemplateErrors.Type($"Unsupported string method '{name}'.");
        }
    }

    private static object? CallDictMethod(TemplateDictionary dict, string name, TemplateArguments args)
    {
        switch (name)
        {
            case "items":
                return dict.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList();
            case "keys":
                return dict.Keys.Select(k => (object?)k).ToList();
            case "values":
                return dict.Values.ToList();
            case "get":
                object? key = args.Get(0, "key");
                return key is string k && dict.TryGetValue(k, out object? value) ? value : args.Get(1, "default");
            case "pop":
                string popKey = Str(args.Get(0, "key"));
                if (dict.Remove(popKey, out object? removed))
                {
                    return removed;
                }

                return args.Has(1, "default") ? args.Get(1, "default") : throw TemplateErrors.Type($"Key '{popKey}' not found.");
            case "update":
                if (args.Get(0, "other") is TemplateDictionary other)
                {
                    foreach (KeyValuePair<string, object?> pair in other)
                    {
                        dict[pair.Key] = pair.Value;
                    }
                }

                foreach (KeyValuePair<string, object?> pair in args.Named)
                {
                    dict[pair.Key] = pair.Value;
                }

                return null;
            default:
                throw TemplateErrors.Type($"Unsupported mapping method '{name}'.");
        }
    }

    private static object? CallListMethod(List<object?> list, string name, TemplateArguments args)
    {
        switch (name)
        {
            case "append":
                list.Add(args.Get(0, "item"));
                return null;
            case "extend":
                list.AddRange(TemplateValue.Iterate(args.Get(0, "items")));
                return null;
            case "pop":
                if (list.Count == 0)
                {
                    throw TemplateErrors.Type("pop from an empty list.");
                }

                long index = args.Get(0, "index") is long i ? i : -1;
                if (index < 0)
                {
                    index += list.Count;
                }

                if (index < 0 || index >= list.Count)
                {
                    throw TemplateErrors.Type("pop index out of range.");
                }

                object? item = list[(int)index];
                list.RemoveAt((int)index);
                return item;
            case "index":
                object? wanted = args.Get(0, "value");
                for (int j = 0; j < list.Count; j++)
                {
                    if (TemplateValue.Equals(list[j], wanted))
                    {
                        return (long)j;
                    }
                }

                throw TemplateErrors.Type("Value is not in the list.");
            default:
                throw TemplateErrors.Type($"Unsupported list method '{name}'.");
        }
    }

    private static string Str(object? value) => value is string s ? s : throw TemplateErrors.Type($"Expected a string argument, got {TemplateValue.TypeName(value)}.");

    private static bool Affix(string s, string affix, bool starts) =>
        starts ? s.StartsWith(affix, StringComparison.Ordinal) : s.EndsWith(affix, StringComparison.Ordinal);

    public static string StripChars(string s, string? chars, bool left, bool right)
    {
        int start = 0;
        int end = s.Length;
        bool Strippable(char c) => chars is null ? char.IsWhiteSpace(c) : chars.Contains(c, StringComparison.Ordinal);
        if (left)
        {
            while (start < end && Strippable(s[start]))
            {
                start++;
            }
        }

        if (right)
        {
            while (end > start && Strippable(s[end - 1]))
            {
                end--;
            }
        }

        return s[start..end];
    }

    private static List<object?> Split(string s, object? separator, long maxSplit)
    {
        var parts = new List<object?>();
        if (separator is null or Undefined)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i]))
                {
                    i++;
                }

                if (i >= s.Length)
                {
                    break;
                }

                if (maxSplit >= 0 && parts.Count == maxSplit)
                {
                    parts.Add(s[i..].TrimEnd());
                    break;
                }

                int start = i;
                while (i < s.Length && !char.IsWhiteSpace(s[i]))
                {
                    i++;
                }

                parts.Add(s[start..i]);
            }

            return parts;
        }

        string sep = Str(separator);
        if (sep.Length == 0)
        {
            throw TemplateErrors.Type("Empty separator.");
        }

        int from = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int at = s.IndexOf(sep, from, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }

            parts.Add(s[from..at]);
            from = at + sep.Length;
        }

        parts.Add(s[from..]);
        return parts;
    }

    private static List<object?> RSplit(string s, object? separator, long maxSplit)
    {
        if (separator is null or Undefined || maxSplit < 0)
        {
            return Split(s, separator, maxSplit);
        }

        string sep = Str(separator);
        if (sep.Length == 0)
        {
            throw TemplateErrors.Type("Empty separator.");
        }

        var parts = new List<object?>();
        int end = s.Length;
        while (parts.Count < maxSplit)
        {
            int at = end == 0 ? -1 : s.LastIndexOf(sep, end - 1, StringComparison.Ordinal);
            if (at < 0 || at + sep.Length > end)
            {
                break;
            }

            parts.Insert(0, s[(at + sep.Length)..end]);
            end = at;
        }

        parts.Insert(0, s[..end]);
        return parts;
    }

    public static string Replace(string s, string oldValue, string newValue, long count)
    {
        if (count < 0)
        {
            if (oldValue.Length == 0)
            {
                var all = new StringBuilder(newValue);
                foreach (char c in s)
                {
                    all.Append(c).Append(newValue);
                }

                return all.ToString();
            }

            return s.Replace(oldValue, newValue, StringComparison.Ordinal);
        }

        var sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count && oldValue.Length > 0; n++)
        {
            int at = s.IndexOf(oldValue, from, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }

            sb.Append(s, from, at - from).Append(newValue);
            from = at + oldValue.Length;
        }

        return sb.Append(s, from, s.Length - from).ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousIsCased = false;
        foreach (char c in s)
        {
            sb.Append(previousIsCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousIsCased = char.IsLetter(c);
        }

        return sb.ToString();
    }

    /// <summary>Follows a dotted attribute path (<c>function.name</c>, <c>items.0</c>) as filters like <c>map</c> do.</summary>
    public static object? GetPath(object? target, string path)
    {
        foreach (string part in path.Split('.'))
        {
            target = target is List<object?> && long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out long index)
                ? GetItem(target, index)
                : GetItem(target, part);
        }

        return target;
    }
}
