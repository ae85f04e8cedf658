using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace Tq.Extensions.AI.ToolCalling;

/// <summary>
/// Turns the JSON (or Qwen 3.5 XML, or Llama built-in call) a model wrote into <see cref="FunctionCallContent"/>s.
/// Every failure becomes an error message, never an exception: the input is whatever the model produced.
/// </summary>
internal static partial class ToolCallJson
{
    private const string IdAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

    private static readonly System.Buffers.SearchValues<char> s_notInNames = System.Buffers.SearchValues.Create(" \t\r\n\"'<>[]{}()");

    private static readonly JsonDocumentOptions s_documentOptions = new() { AllowTrailingCommas = true, MaxDepth = 64 };

    /// <summary>A short call id for models that give none: <c>call_</c> and 8 base-36 characters.</summary>
    public static string CreateCallId() => "call_" + RandomNumberGenerator.GetString(IdAlphabet, 8);

    /// <summary>
    /// Finds the end of the JSON object or array that starts at <paramref name="start"/> by counting brackets outside
    /// strings. Returns the index just past it, <c>-1</c> when the text ends first, <c>-2</c> when no object or array starts there.
    /// </summary>
    public static int ScanValue(string text, int start)
    {
        if (start >= text.Length)
        {
            return -1;
        }

        if (text[start] is not ('{' or '['))
        {
            return -2;
        }

        int depth = 0;
        bool inString = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    break;
                case '{' or '[':
                    depth++;
                    break;
                case '}' or ']':
                    if (--depth == 0)
                    {
                        return i + 1;
                    }

                    break;
            }
        }

        return -1;
    }

    /// <summary>Parses one call object or an array of call objects.</summary>
    public static string? ParseCalls(string json, List<FunctionCallContent> calls)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json, s_documentOptions);
            JsonElement root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                if (root.GetArrayLength() == 0)
                {
                    return "the tool-call array is empty";
                }

                foreach (JsonElement item in root.EnumerateArray())
                {
                    if (ParseCall(item, calls) is string error)
                    {
                        return error;
                    }
                }

                return null;
            }

            return ParseCall(root, calls);
        }
        catch (JsonException ex)
        {
            return $"invalid tool-call JSON ({ex.Message})";
        }
    }

    /// <summary>Parses the arguments object of a call whose name was written outside the JSON (Mistral's <c>name[ARGS]{...}</c>).</summary>
    public static string? ParseArguments(string name, string? id, string json, List<FunctionCallContent> calls)
    {
        if (!IsValidName(name))
        {
            return $"invalid function name '{name}'";
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(json, s_documentOptions);
            if (ToArguments(doc.RootElement, out IDictionary<string, object?>? arguments) is string error)
            {
                return error;
            }

            calls.Add(new FunctionCallContent(string.IsNullOrEmpty(id) ? CreateCallId() : id, name, arguments));
            return null;
        }
        catch (JsonException ex)
        {
            return $"invalid tool-call arguments JSON ({ex.Message})";
        }
    }

    /// <summary>Parses Qwen 3.5's <c>&lt;function=name&gt;&lt;parameter=key&gt;value&lt;/parameter&gt;&lt;/function&gt;</c>.</summary>
    public static string? ParseXmlFunction(string body, List<FunctionCallContent> calls)
    {
        try
        {
            return ParseXmlFunctionCore(body, calls);
        }
        catch (RegexMatchTimeoutException)
        {
            return "the <function=...> call is too complex to parse";
        }
    }

    /// <summary>Parses a Llama 3.1 built-in call <c>tool.call(key="value", n=3)</c>; false when the text is not one.</summary>
    public static bool TryParseBuiltinCall(string code, List<FunctionCallContent> calls)
    {
        try
        {
            return TryParseBuiltinCallCore(code, calls);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static string? ParseXmlFunctionCore(string body, List<FunctionCallContent> calls)
    {
        Match function = XmlFunction().Match(body);
        if (!function.Success)
        {
            return "expected <function=name>...</function> inside <tool_call>";
        }

        string name = function.Groups["name"].Value.Trim();
        if (!IsValidName(name))
        {
            return $"invalid function name '{name}'";
        }

        string inner = function.Groups["body"].Value;
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        int consumed = 0;
        foreach (Match p in XmlParameter().Matches(inner))
        {
            if (!string.IsNullOrWhiteSpace(inner[consumed..p.Index]))
            {
                return $"unexpected text '{inner[consumed..p.Index].Trim()}' between parameters of '{name}'";
            }

            consumed = p.Index + p.Length;
            arguments[p.Groups["key"].Value.Trim()] = XmlValue(p.Groups["value"].Value);
        }

        if (!string.IsNullOrWhiteSpace(inner[consumed..]))
        {
            return $"unexpected text '{inner[consumed..].Trim()}' in the parameters of '{name}'";
        }

        calls.Add(new FunctionCallContent(CreateCallId(), name, arguments));
        return null;
    }

    private static bool TryParseBuiltinCallCore(string code, List<FunctionCallContent> calls)
    {
        Match call = BuiltinCall().Match(code);
        if (!call.Success)
        {
            return false;
        }

        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        string list = call.Groups["args"].Value;
        int consumed = 0;
        foreach (Match a in BuiltinArgument().Matches(list))
        {
            if (!string.IsNullOrWhiteSpace(list[consumed..a.Index].Replace(",", string.Empty, StringComparison.Ordinal)))
            {
                return false;
            }

            consumed = a.Index + a.Length;
            string raw = a.Groups["value"].Value.Trim();
            object? value;
            if (raw.Length >= 2 && raw[0] is '"' or '\'' && raw[^1] == raw[0])
            {
                value = raw[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\'", "'", StringComparison.Ordinal);
            }
            else if (!TryParseJsonScalar(raw, out value))
            {
                return false;
            }

            arguments[a.Groups["key"].Value] = value;
        }

        if (!string.IsNullOrWhiteSpace(list[consumed..].Replace(",", string.Empty, StringComparison.Ordinal)))
        {
            return false;
        }

        calls.Add(new FunctionCallContent(CreateCallId(), call.Groups["name"].Value, arguments));
        return true;
    }

    private static string? ParseCall(JsonElement element, List<FunctionCallContent> calls)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return $"a tool call must be a JSON object, not {element.ValueKind}";
        }

        string? id = element.TryGetProperty("id", out JsonElement idElement) && idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;

        // The OpenAI shape {"type": "function", "function": {"name": ..., "arguments": ...}} nests the call.
        if (element.TryGetProperty("function", out JsonElement nested) && nested.ValueKind == JsonValueKind.Object)
        {
            element = nested;
        }

        if (!element.TryGetProperty("name", out JsonElement nameElement) || nameElement.ValueKind != JsonValueKind.String)
        {
            return "the tool call has no \"name\" string";
        }

        string name = nameElement.GetString()!;
        if (!IsValidName(name))
        {
            return $"invalid function name '{name}'";
        }

        JsonElement args = element.TryGetProperty("arguments", out JsonElement a) ? a
            : element.TryGetProperty("parameters", out JsonElement p) ? p
            : default;
        if (ToArguments(args, out IDictionary<string, object?>? arguments) is string error)
        {
            return $"{error} in the call to '{name}'";
        }

        calls.Add(new FunctionCallContent(string.IsNullOrEmpty(id) ? CreateCallId() : id, name, arguments));
        return null;
    }

    private static string? ToArguments(JsonElement args, out IDictionary<string, object?>? arguments)
    {
        arguments = null;
        switch (args.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
                return null;
            case JsonValueKind.Object:
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (JsonProperty property in args.EnumerateObject())
                {
                    dict[property.Name] = property.Value.Clone();
                }

                arguments = dict;
                return null;
            case JsonValueKind.String:
                // Some models (and the OpenAI wire format) write the arguments as a JSON string holding the object.
                string text = args.GetString()!;
                if (string.IsNullOrWhiteSpace(text))
                {
                    arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
                    return null;
                }

                try
                {
                    using JsonDocument inner = JsonDocument.Parse(text, s_documentOptions);
                    return inner.RootElement.ValueKind == JsonValueKind.Object
                        ? ToArguments(inner.RootElement, out arguments)
                        : $"the arguments must be a JSON object, not {inner.RootElement.ValueKind}";
                }
                catch (JsonException ex)
                {
                    return $"invalid arguments JSON string ({ex.Message})";
                }

            default:
                return $"the arguments must be a JSON object, not {args.ValueKind}";
        }
    }

    private static object? XmlValue(string raw)
    {
        // The template writes each value between newlines; the value itself is the text in between.
        string value = raw.StartsWith('\n') ? raw[1..] : raw;
        value = value.EndsWith('\n') ? value[..^1] : value;
        string trimmed = value.Trim();
        if (trimmed.Length > 0 && trimmed[0] is '{' or '[' && TryParseJson(trimmed, out JsonElement element))
        {
            return element;
        }

        return TryParseJsonScalar(trimmed, out object? scalar) ? scalar : value;
    }

    private static bool TryParseJsonScalar(string raw, out object? value)
    {
        value = null;
        if (raw is "true" or "false" or "null" || (raw.Length > 0 && (char.IsAsciiDigit(raw[0]) || raw[0] == '-')))
        {
            if (TryParseJson(raw, out JsonElement element))
            {
                value = element;
                return true;
            }
        }

        return false;
    }

    private static bool TryParseJson(string raw, out JsonElement element)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(raw, s_documentOptions);
            element = doc.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            element = default;
            return false;
        }
    }

    private static bool IsValidName(string name) =>
        name.Length is > 0 and <= 256 && !name.AsSpan().ContainsAny(s_notInNames);

    [GeneratedRegex(@"^\s*<function=(?<name>[^>\n]+)>(?<body>.*)</function>\s*$", RegexOptions.Singleline | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex XmlFunction();

    [GeneratedRegex(@"<parameter=(?<key>[^>\n]+)>(?<value>.*?)</parameter>", RegexOptions.Singleline | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex XmlParameter();

    [GeneratedRegex(@"^\s*(?<name>[A-Za-z_][A-Za-z0-9_]*)\.call\((?<args>.*)\)\s*$", RegexOptions.Singleline | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex BuiltinCall();

    [GeneratedRegex(@"(?<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?<value>""(?:[^""\\]|\\.)*""|'(?:[^'\\]|\\.)*'|[^,]+)", RegexOptions.Singleline | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex BuiltinArgument();
}
