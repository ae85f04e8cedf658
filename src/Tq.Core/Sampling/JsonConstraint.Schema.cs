using System.Text.Json;

namespace Tq.Core.Sampling;

/// <summary>The JSON Schema subset of <see cref="JsonConstraint"/>: a compiled schema and the automaton that follows it.</summary>
internal sealed partial class JsonConstraint
{
    private enum SchemaMode : byte
    {
        Value,
        Literal,
        Alternatives,
        Sub,
        ArrayStart,
        ArrayAfterItem,
        Done,
    }

    /// <summary>
    /// A compiled schema node. Supported: <c>type</c> object (with <c>properties</c>: every property, in the declared
    /// order, compact <c>"key": value</c> formatting), array (<c>items</c>), string, integer, number, boolean, null;
    /// <c>enum</c> and <c>const</c>. Anything else (<c>anyOf</c>, <c>$ref</c>, type lists, string formats, patterns,
    /// bounds) accepts any JSON value there.
    /// </summary>
    internal abstract class SchemaNode
    {
        /// <summary>Plain JSON mode: any object.</summary>
        public static SchemaNode AnyObject { get; } = new AnyNode(objectOnly: true);

        public static SchemaNode Compile(JsonElement schema)
        {
            if (schema.ValueKind != JsonValueKind.Object)
            {
                return new AnyNode(objectOnly: false);
            }

            if (schema.TryGetProperty("enum", out JsonElement values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() is > 0 and <= 64)
            {
                return new LiteralsNode([.. values.EnumerateArray().Select(v => JsonSerializer.Serialize(v, TqJsonContext.Default.JsonElement))]);
            }

            if (schema.TryGetProperty("const", out JsonElement constant))
            {
                return new LiteralsNode([JsonSerializer.Serialize(constant, TqJsonContext.Default.JsonElement)]);
            }

            string? type = schema.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : schema.TryGetProperty("properties", out _) ? "object" : null;
            switch (type)
            {
                case "object" when schema.TryGetProperty("properties", out JsonElement properties) && properties.ValueKind == JsonValueKind.Object:
                {
                    var keys = new List<string>();
                    var nodes = new List<SchemaNode>();
                    foreach (JsonProperty property in properties.EnumerateObject())
                    {
                        keys.Add((keys.Count == 0 ? string.Empty : ", ") + JsonSerializer.Serialize(property.Name, TqJsonContext.Default.String) + ": ");
                        nodes.Add(Compile(property.Value));
                    }

                    return keys.Count == 0 ? new LiteralsNode(["{}"]) : new ObjectNode([.. keys], [.. nodes]);
                }

                case "object":
                    return new AnyNode(objectOnly: true);
                case "array":
                    return new ArrayNode(schema.TryGetProperty("items", out JsonElement items) ? Compile(items) : new AnyNode(objectOnly: false));
                case "string":
                    return new StringNode();
                case "integer":
                    return new NumberNode(integer: true);
                case "number":
                    return new NumberNode(integer: false);
                case "boolean":
                    return new LiteralsNode(["true", "false"]);
                case "null":
                    return new LiteralsNode(["null"]);
                default:
                    return new AnyNode(objectOnly: false);
            }
        }
    }

    private sealed class AnyNode(bool objectOnly) : SchemaNode
    {
        public bool ObjectOnly { get; } = objectOnly;
    }

    private sealed class StringNode : SchemaNode;

    private sealed class NumberNode(bool integer) : SchemaNode
    {
        public bool Integer { get; } = integer;
    }

    private sealed class LiteralsNode(string[] texts) : SchemaNode
    {
        public string[] Texts { get; } = texts;
    }

    private sealed class ObjectNode(string[] keys, SchemaNode[] values) : SchemaNode
    {
        /// <summary>What precedes each value: <c>"key": </c>, with <c>, </c> before every key but the first.</summary>
        public string[] Keys { get; } = keys;

        public SchemaNode[] Values { get; } = values;
    }

    private sealed class ArrayNode(SchemaNode items) : SchemaNode
    {
        public SchemaNode Items { get; } = items;
    }

    /// <summary>An open object or array: which property comes next, and the frame around it.</summary>
    private sealed class Frame(SchemaNode node, int index, Frame? parent)
    {
        public SchemaNode Node { get; } = node;

        public int Index { get; } = index;

        public Frame? Parent { get; } = parent;
    }

    /// <summary>The schema automaton: what is being written now (a fixed text, a choice of literals, a free value) and the open frames.</summary>
    private struct SchemaState
    {
        private SchemaMode _mode;
        private SchemaNode? _pending;   // Value: the node to start; Literal: the node after the text (null: the text closes the frame)
        private string? _text;
        private string[]? _alternatives;
        private ulong _candidates;
        private int _position;
        private Frame? _stack;
        private State _sub;
        private bool _integer;

        public readonly bool IsDone => _mode == SchemaMode.Done;

        public static SchemaState Start(SchemaNode root) => new() { _mode = SchemaMode.Value, _pending = root };

        public bool Feed(char c)
        {
            switch (_mode)
            {
                case SchemaMode.Literal:
                    if (c != _text![_position])
                    {
                        return false;
                    }

                    if (++_position == _text.Length)
                    {
                        if (_pending is not null)
                        {
                            _mode = SchemaMode.Value;
                        }
                        else
                        {
                            _stack = _stack!.Parent;
                            ValueEnded();
                        }
                    }

                    return true;
                case SchemaMode.Value:
                    return StartValue(c);
                case SchemaMode.Alternatives:
                {
                    ulong next = 0;
                    for (int i = 0; i < _alternatives!.Length; i++)
                    {
                        string text = _alternatives[i];
                        if ((_candidates & (1UL << i)) != 0 && _position < text.Length && text[_position] == c)
                        {
                            next |= 1UL << i;
                        }
                    }

                    if (next == 0)
                    {
                        return false;
                    }

                    _candidates = next;
                    _position++;
                    bool allEnded = true;
                    for (int i = 0; i < _alternatives.Length; i++)
                    {
                        if ((next & (1UL << i)) != 0 && _alternatives[i].Length != _position)
                        {
                            allEnded = false;
                        }
                    }

                    if (allEnded)
                    {
                        ValueEnded();
                    }

                    return true;
                }

                case SchemaMode.Sub:
                {
                    if (_integer && c is '.' or 'e' or 'E')
                    {
                        return false;
                    }

                    State before = _sub;
                    if (_sub.Feed(c))
                    {
                        if (_sub.Mode == Mode.Done)
                        {
                            ValueEnded();
                        }

                        return true;
                    }

                    if (before.AtNumberEnd)
                    {
                        // The number ended just before this character, which belongs to what follows it.
                        _sub = before;
                        ValueEnded();
                        return Feed(c);
                    }

                    return false;
                }

                case SchemaMode.ArrayStart:
                    if (c == ']')
                    {
                        _stack = _stack!.Parent;
                        ValueEnded();
                        return true;
                    }

                    _pending = ((ArrayNode)_stack!.Node).Items;
                    return StartValue(c);
                case SchemaMode.ArrayAfterItem:
                    if (c == ']')
                    {
                        _stack = _stack!.Parent;
                        ValueEnded();
                        return true;
                    }

                    if (c != ',')
                    {
                        return false;
                    }

                    BeginLiteral(" ", ((ArrayNode)_stack!.Node).Items);
                    return true;
                default:
                    return false;
            }
        }

        private bool StartValue(char c)
        {
            switch (_pending)
            {
                case ObjectNode o:
                    if (c != '{')
                    {
                        return false;
                    }

                    _stack = new Frame(o, 0, _stack);
                    BeginLiteral(o.Keys[0], o.Values[0]);
                    return true;
                case ArrayNode a:
                    if (c != '[')
                    {
                        return false;
                    }

                    _stack = new Frame(a, 0, _stack);
                    _mode = SchemaMode.ArrayStart;
                    return true;
                case LiteralsNode l:
                    _mode = SchemaMode.Alternatives;
                    _alternatives = l.Texts;
                    _candidates = l.Texts.Length == 64 ? ulong.MaxValue : (1UL << l.Texts.Length) - 1;
                    _position = 0;
                    return Feed(c);
                case StringNode when c != '"':
                case NumberNode when c != '-' && !char.IsAsciiDigit(c):
                case AnyNode { ObjectOnly: true } when c != '{':
                    return false;
                default:
                    if (char.IsWhiteSpace(c))
                    {
                        return false;
                    }

                    _integer = _pending is NumberNode { Integer: true };
                    _sub = State.ForValue();
                    _mode = SchemaMode.Sub;
                    if (!_sub.Feed(c))
                    {
                        return false;
                    }

                    if (_sub.Mode == Mode.Done)
                    {
                        ValueEnded();
                    }

                    return true;
            }
        }

        private void BeginLiteral(string text, SchemaNode? next)
        {
            _mode = SchemaMode.Literal;
            _text = text;
            _position = 0;
            _pending = next;
        }

        /// <summary>A value just ended: continue with what its frame expects next.</summary>
        private void ValueEnded()
        {
            _integer = false;
            switch (_stack?.Node)
            {
                case null:
                    _mode = SchemaMode.Done;
                    break;
                case ObjectNode o:
                    int next = _stack.Index + 1;
                    if (next < o.Keys.Length)
                    {
                        _stack = new Frame(o, next, _stack.Parent);
                        BeginLiteral(o.Keys[next], o.Values[next]);
                    }
                    else
                    {
                        BeginLiteral("}", null);
                    }

                    break;
                default:
                    _mode = SchemaMode.ArrayAfterItem;
                    break;
            }
        }
    }
}
