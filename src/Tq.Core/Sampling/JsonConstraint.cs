using System.Text.Json;
using Tq.Core.Tokenization;

namespace Tq.Core.Sampling;

/// <summary>
/// A stage of the sampling chain for JSON mode: constrains sampling so the output is a JSON object (or, given a JSON Schema, a value of the schema's
/// supported subset). Before each draw, every token whose text would make the output stop being a valid prefix gets
/// −∞ logits (a character-level pushdown automaton walked over a trie of the token texts); end-of-generation is allowed
/// only once the value is complete, and generation stops right there.
/// </summary>
/// <remarks>
/// Whitespace outside strings is limited to one character in a row (so a model cannot loop on blanks), tokens that
/// hold only part of a UTF-8 character are not used, and nesting is limited to 64 levels. The schema subset is described
/// on <see cref="SchemaNode"/>.
/// </remarks>
internal sealed partial class JsonConstraint : ISamplingConstraint
{
    private static readonly ConditionalWeakTable<Tokenizer, Vocabulary> s_vocabularies = [];

    private readonly Tokenizer _tokenizer;
    private readonly string?[] _pieces;
    private readonly TrieNode _trie;
    private readonly bool[] _allowed;
    private readonly SchemaNode _root;
    private SchemaState _state;

    private JsonConstraint(Tokenizer tokenizer, Vocabulary vocabulary, SchemaNode root)
    {
        _tokenizer = tokenizer;
        _pieces = vocabulary.Pieces;
        _trie = vocabulary.Trie;
        _allowed = new bool[_pieces.Length];
        _root = root;
        _state = SchemaState.Start(root);
    }

    private enum Mode : byte
    {
        Start,
        Value,
        ArrayValueOrEnd,
        KeyOrEnd,
        Key,
        Colon,
        AfterValue,
        String,
        Escape,
        Unicode,
        Literal,
        NumberSign,
        NumberZero,
        NumberInt,
        NumberDot,
        NumberFraction,
        NumberE,
        NumberExponentSign,
        NumberExponent,
        Done,
    }

    /// <summary>Whether the top-level object is closed.</summary>
    public bool IsComplete => _state.IsDone;

    /// <summary>A constraint to any JSON object.</summary>
    public static JsonConstraint For(Tokenizer tokenizer) => new(tokenizer, s_vocabularies.GetValue(tokenizer, Vocabulary.Build), SchemaNode.AnyObject);

    /// <summary>A constraint to JSON that matches <paramref name="schema"/> (the supported subset; see <see cref="SchemaNode.Compile"/>).</summary>
    public static JsonConstraint For(Tokenizer tokenizer, JsonElement schema) => new(tokenizer, s_vocabularies.GetValue(tokenizer, Vocabulary.Build), SchemaNode.Compile(schema));

    /// <inheritdoc />
    public void Apply(Span<float> logits) => Mask(logits, _tokenizer);

    /// <summary>Sets the logits of every token that cannot continue the JSON to −∞.</summary>
    /// <remarks>
    /// The token texts are walked as a character trie, so a prefix shared by many tokens is checked once (the automaton
    /// state is copied at each branch): the work is the number of trie nodes reachable from the current state, not the
    /// sum of all token lengths.
    /// </remarks>
    public void Mask(Span<float> logits, Tokenizer tokenizer)
    {
        bool complete = IsComplete;
        Array.Clear(_allowed);
        if (!complete)
        {
            Walk(_trie, _state);
        }

        for (int id = 0; id < logits.Length; id++)
        {
            bool allowed = tokenizer.IsEndOfGeneration(id) ? complete : _allowed[id];
            if (!allowed)
            {
                logits[id] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>The same mask by feeding every token's text separately (the reference for tests and measurements).</summary>
    internal void MaskLinear(Span<float> logits, Tokenizer tokenizer)
    {
        bool complete = IsComplete;
        for (int id = 0; id < logits.Length; id++)
        {
            bool allowed;
            if (tokenizer.IsEndOfGeneration(id))
            {
                allowed = complete;
            }
            else if (complete || _pieces[id] is not string piece)
            {
                allowed = false;
            }
            else
            {
                SchemaState s = _state;
                allowed = true;
                foreach (char c in piece)
                {
                    if (!s.Feed(c))
                    {
                        allowed = false;
                        break;
                    }
                }
            }

            if (!allowed)
            {
                logits[id] = float.NegativeInfinity;
            }
        }
    }

    private void Walk(TrieNode node, SchemaState state)
    {
        foreach (int id in node.Tokens)
        {
            _allowed[id] = true;
        }

        TrieNode[] children = node.Children;
        for (int i = 0; i < children.Length; i++)
        {
            SchemaState next = state;
            if (next.Feed(children[i].Char))
            {
                Walk(children[i], next);
            }
        }
    }

    /// <summary>Advances over the chosen token.</summary>
    public void Accept(int token)
    {
        if (_pieces[token] is string piece)
        {
            foreach (char c in piece)
            {
                _ = _state.Feed(c);
            }
        }
    }

    /// <summary>Back to the start of the value (a new answer).</summary>
    public void Reset() => _state = SchemaState.Start(_root);

    /// <summary>Advances over text (tests); false when the text cannot continue the JSON.</summary>
    internal bool Advance(string text)
    {
        foreach (char c in text)
        {
            if (!_state.Feed(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="text"/> is a prefix of a JSON object (for tests).</summary>
    internal static bool IsValidPrefix(string text, out bool complete) => IsValidPrefix(SchemaNode.AnyObject, text, out complete);

    /// <summary>Whether <paramref name="text"/> is a prefix of JSON that <paramref name="root"/> accepts (for tests).</summary>
    internal static bool IsValidPrefix(SchemaNode root, string text, out bool complete)
    {
        SchemaState s = SchemaState.Start(root);
        foreach (char c in text)
        {
            if (!s.Feed(c))
            {
                complete = false;
                return false;
            }
        }

        complete = s.IsDone;
        return true;
    }

    /// <summary>The usable token texts of a vocabulary and their character trie.</summary>
    private sealed class Vocabulary(string?[] pieces, TrieNode trie)
    {
        public string?[] Pieces { get; } = pieces;

        public TrieNode Trie { get; } = trie;

        public static Vocabulary Build(Tokenizer tokenizer)
        {
            var pieces = new string?[tokenizer.VocabularySize];
            var root = new TrieBuilder('\0');
            for (int id = 0; id < pieces.Length; id++)
            {
                if (tokenizer.IsControl(id))
                {
                    continue;
                }

                ReadOnlySpan<byte> bytes = tokenizer.TokenToPieceUtf8(id, renderSpecial: false);
                if (bytes.IsEmpty || !System.Text.Unicode.Utf8.IsValid(bytes))
                {
                    continue;
                }

                string piece = System.Text.Encoding.UTF8.GetString(bytes);
                pieces[id] = piece;
                TrieBuilder node = root;
                foreach (char c in piece)
                {
                    node = node.Child(c);
                }

                node.Tokens.Add(id);
            }

            return new Vocabulary(pieces, root.Freeze());
        }
    }

    private sealed class TrieBuilder(char c)
    {
        private readonly Dictionary<char, TrieBuilder> _children = [];

        public List<int> Tokens { get; } = [];

        public TrieBuilder Child(char c)
        {
            if (!_children.TryGetValue(c, out TrieBuilder? child))
            {
                child = new TrieBuilder(c);
                _children.Add(c, child);
            }

            return child;
        }

        public TrieNode Freeze() => new(c, [.. Tokens], [.. _children.Values.Select(b => b.Freeze())]);
    }

    private sealed class TrieNode(char c, int[] tokens, TrieNode[] children)
    {
        public char Char { get; } = c;

        public int[] Tokens { get; } = tokens;

        public TrieNode[] Children { get; } = children;
    }

    private struct State
    {
        private const string True = "true", False = "false", Null = "null";

        public Mode Mode;
        private Mode _stringReturn;

        /// <summary>Whether a number is complete here (the next character may end it).</summary>
        public readonly bool AtNumberEnd => Mode is Mode.NumberZero or Mode.NumberInt or Mode.NumberFraction or Mode.NumberExponent;

        /// <summary>A state that expects one JSON value of any kind (at depth 0: done when it ends).</summary>
        public static State ForValue() => new() { Mode = Mode.Value };
        private ulong _stack; // bit i = 1: level i is an object
        private byte _depth;
        private byte _index;
        private byte _literal; // 0 true, 1 false, 2 null
        private bool _space;

        public bool Feed(char c)
        {
            switch (Mode)
            {
                case Mode.String:
                    if (c == '"')
                    {
                        if (_stringReturn == Mode.AfterValue)
                        {
                            EndValue();
                        }
                        else
                        {
                            Mode = _stringReturn;
                        }
                    }
                    else if (c == '\\')
                    {
                        Mode = Mode.Escape;
                    }
                    else if (c < 0x20)
                    {
                        return false;
                    }

                    return true;
                case Mode.Escape:
                    if (c == 'u')
                    {
                        Mode = Mode.Unicode;
                        _index = 0;
                        return true;
                    }

                    Mode = Mode.String;
                    return c is '"' or '\\' or '/' or 'b' or 'f' or 'n' or 'r' or 't';
                case Mode.Unicode:
                    if (!char.IsAsciiHexDigit(c))
                    {
                        return false;
                    }

                    if (++_index == 4)
                    {
                        Mode = Mode.String;
                    }

                    return true;
                case Mode.Literal:
                {
                    string word = _literal switch { 0 => True, 1 => False, _ => Null };
                    if (c != word[_index])
                    {
                        return false;
                    }

                    if (++_index == word.Length)
                    {
                        EndValue();
                    }

                    return true;
                }

                case Mode.NumberSign:
                    if (c == '0')
                    {
                        Mode = Mode.NumberZero;
                        return true;
                    }

                    if (c is >= '1' and <= '9')
                    {
                        Mode = Mode.NumberInt;
                        return true;
                    }

                    return false;
                case Mode.NumberZero:
                case Mode.NumberInt:
                case Mode.NumberFraction:
                    // More digits (not after a leading zero), a fraction (not twice), an exponent, or the number ends.
                    if (Mode != Mode.NumberZero && char.IsAsciiDigit(c))
                    {
                        return true;
                    }

                    if (c == '.' && Mode != Mode.NumberFraction)
                    {
                        Mode = Mode.NumberDot;
                        return true;
                    }

                    if (c is 'e' or 'E')
                    {
                        Mode = Mode.NumberE;
                        return true;
                    }

                    EndValue();
                    return Feed(c);
                case Mode.NumberDot:
                    return DigitThen(c, Mode.NumberFraction);
                case Mode.NumberE when c is '+' or '-':
                    Mode = Mode.NumberExponentSign;
                    return true;
                case Mode.NumberE:
                case Mode.NumberExponentSign:
                    return DigitThen(c, Mode.NumberExponent);
                case Mode.NumberExponent:
                    if (char.IsAsciiDigit(c))
                    {
                        return true;
                    }

                    EndValue();
                    return Feed(c);
                case Mode.Done:
                    return false;
            }

            if (c is ' ' or '\n' or '\t' or '\r')
            {
                if (_space || Mode == Mode.Start)
                {
                    return false;
                }

                _space = true;
                return true;
            }

            _space = false;
            switch (Mode)
            {
                case Mode.Start:
                    return c == '{' && Push(isObject: true);
                case Mode.Value:
                case Mode.ArrayValueOrEnd:
                    if (Mode == Mode.ArrayValueOrEnd && c == ']')
                    {
                        return Pop(isObject: false);
                    }

                    return StartValue(c);
                case Mode.KeyOrEnd:
                    if (c == '}')
                    {
                        return Pop(isObject: true);
                    }

                    goto case Mode.Key;
                case Mode.Key:
                    if (c != '"')
                    {
                        return false;
                    }

                    Mode = Mode.String;
                    _stringReturn = Mode.Colon;
                    return true;
                case Mode.Colon:
                    if (c != ':')
                    {
                        return false;
                    }

                    Mode = Mode.Value;
                    return true;
                case Mode.AfterValue:
                    bool inObject = (_stack & (1UL << (_depth - 1))) != 0;
                    if (c == ',')
                    {
                        Mode = inObject ? Mode.Key : Mode.Value;
                        return true;
                    }

                    return c == (inObject ? '}' : ']') && Pop(inObject);
                default:
                    return false;
            }
        }

        private bool StartValue(char c)
        {
            switch (c)
            {
                case '{':
                    return Push(isObject: true);
                case '[':
                    return Push(isObject: false);
                case '"':
                    Mode = Mode.String;
                    _stringReturn = Mode.AfterValue;
                    return true;
                case 't' or 'f' or 'n':
                    Mode = Mode.Literal;
                    _literal = c switch { 't' => 0, 'f' => 1, _ => 2 };
                    _index = 1;
                    return true;
                case '-':
                    Mode = Mode.NumberSign;
                    return true;
                case '0':
                    Mode = Mode.NumberZero;
                    return true;
                case >= '1' and <= '9':
                    Mode = Mode.NumberInt;
                    return true;
                default:
                    return false;
            }
        }

        private bool Push(bool isObject)
        {
            if (_depth == 64)
            {
                return false;
            }

            _stack = isObject ? _stack | (1UL << _depth) : _stack & ~(1UL << _depth);
            _depth++;
            Mode = isObject ? Mode.KeyOrEnd : Mode.ArrayValueOrEnd;
            return true;
        }

        private bool Pop(bool isObject)
        {
            if (_depth == 0 || ((_stack & (1UL << (_depth - 1))) != 0) != isObject)
            {
                return false;
            }

            _depth--;
            EndValue();
            return true;
        }

        // A digit that moves the number to `next`; anything else is refused.
        private bool DigitThen(char c, Mode next)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            Mode = next;
            return true;
        }

        private void EndValue()
        {
            _space = false;
            Mode = _depth == 0 ? Mode.Done : Mode.AfterValue;
        }
    }
}
