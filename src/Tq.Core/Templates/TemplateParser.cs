namespace Tq.Core.Templates;

/// <summary>Recursive-descent parser from <see cref="TemplateLexer"/> tokens to statement and expression nodes (Jinja2 grammar and precedence).</summary>
internal sealed class TemplateParser
{
    private static readonly string[] s_compareOperators = ["==", "!=", "<", "<=", ">", ">="];
    private static readonly string[] s_testArgumentStops = ["else", "or", "and", "if", "is", "in", "not"];

    private readonly string _source;
    private readonly List<TemplateToken> _tokens;
    private int _pos;

    private TemplateParser(string source, List<TemplateToken> tokens)
    {
        _source = source;
        _tokens = tokens;
    }

    public static List<TemplateStatement> Parse(string source)
    {
        var parser = new TemplateParser(source, TemplateLexer.Tokenize(source));
        List<TemplateStatement> body = parser.ParseBody([], out _, openOffset: 0);
        return body;
    }

    private TemplateToken Current => _tokens[_pos];

    private TemplateToken Next() => _tokens[_pos++];

    private ChatTemplateException Error(TemplateToken token, string message) => TemplateErrors.Syntax(_source, token.Offset, message);

    private static string Describe(TemplateToken token) => token.Kind switch
    {
        TemplateTokenKind.End => "end of template",
        TemplateTokenKind.BlockEnd => "'%}'",
        TemplateTokenKind.VariableEnd => "'}}'",
        TemplateTokenKind.String => "string literal",
        _ => $"'{token.Text}'",
    };

    private TemplateToken ExpectOperator(string op)
    {
        TemplateToken token = Current;
        if (!token.IsOperator(op))
        {
            throw Error(token, $"Expected '{op}', found {Describe(token)}.");
        }

        return Next();
    }

    private string ExpectName(string what)
    {
        TemplateToken token = Current;
        if (token.Kind != TemplateTokenKind.Name)
        {
            throw Error(token, $"Expected {what}, found {Describe(token)}.");
        }

        _pos++;
        return token.Text;
    }

    private void ExpectBlockEnd(string tag)
    {
        TemplateToken token = Current;
        if (token.Kind != TemplateTokenKind.BlockEnd)
        {
            throw Error(token, $"Unexpected {Describe(token)} in '{tag}' tag; expected '%}}'.");
        }

        _pos++;
    }

    private bool SkipName(string name)
    {
        if (Current.IsName(name))
        {
            _pos++;
            return true;
        }

        return false;
    }

    private bool SkipOperator(string op)
    {
        if (Current.IsOperator(op))
        {
            _pos++;
            return true;
        }

        return false;
    }

    // Parses statements until one of endTags opens a block tag; the tag name is consumed, the rest of the tag is not.
    private List<TemplateStatement> ParseBody(string[] endTags, out string endTag, int openOffset)
    {
        var body = new List<TemplateStatement>();
        while (true)
        {
            TemplateToken token = Current;
            switch (token.Kind)
            {
                case TemplateTokenKind.Text:
                    _pos++;
                    body.Add(new TemplateStatement.Text(token.Offset, token.Text));
                    break;
                case TemplateTokenKind.VariableBegin:
                    _pos++;
                    TemplateExpression expr = ParseTupleOrExpression();
                    if (Current.Kind != TemplateTokenKind.VariableEnd)
                    {
                        throw Error(Current, $"Unexpected {Describe(Current)} in expression; expected '}}}}'.");
                    }

                    _pos++;
                    body.Add(new TemplateStatement.Output(token.Offset, expr));
                    break;
                case TemplateTokenKind.BlockBegin:
                    TemplateToken name = _tokens[_pos + 1];
                    if (name.Kind == TemplateTokenKind.Name && Array.IndexOf(endTags, name.Text) >= 0)
                    {
                        _pos += 2;
                        endTag = name.Text;
                        return body;
                    }

                    _pos++;
                    body.Add(ParseStatement(token.Offset));
                    break;
                case TemplateTokenKind.End:
                    if (endTags.Length > 0)
                    {
                        throw TemplateErrors.Syntax(_source, openOffset, $"Block opened here is never closed: expected {string.Join(" or ", endTags.Select(t => "{% " + t + " %}"))} before the end of the template.");
                    }

                    endTag = string.Empty;
                    return body;
                default:
                    throw Error(token, $"Unexpected {Describe(token)}.");
            }
        }
    }

    private TemplateStatement ParseStatement(int offset)
    {
        TemplateToken keyword = Current;
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error(keyword, "Blocks nested too deeply.");
        }

        if (keyword.Kind != TemplateTokenKind.Name)
        {
            throw Error(keyword, $"Expected a statement name, found {Describe(keyword)}.");
        }

        _pos++;
        switch (keyword.Text)
        {
            case "if":
                return ParseIf(offset);
            case "for":
                return ParseFor(offset);
            case "set":
                return ParseSet(offset);
            case "macro":
                return ParseMacro(offset);
            case "break":
            case "continue":
                ExpectBlockEnd(keyword.Text);
                return new TemplateStatement.Jump(offset, keyword.Text == "break" ? LoopControl.Break : LoopControl.Continue);
            case "do":
                TemplateExpression expr = ParseExpression();
                ExpectBlockEnd("do");
                return new TemplateStatement.Do(offset, expr);
            case "generation":
                // Hugging Face's marker for assistant-mask training; renders its body unchanged.
                ExpectBlockEnd("generation");
                List<TemplateStatement> body = ParseBody(["endgeneration"], out _, offset);
                ExpectBlockEnd("endgeneration");
                return new TemplateStatement.Group(offset, body);
            case "elif":
            case "else":
            case "endif":
            case "endfor":
            case "endmacro":
            case "endset":
                throw Error(keyword, $"Unexpected '{keyword.Text}' without a matching opening tag.");
            default:
                throw Error(keyword, $"Unsupported template tag '{keyword.Text}'.");
        }
    }

    private TemplateStatement.If ParseIf(int offset)
    {
        var branches = new List<KeyValuePair<TemplateExpression, List<TemplateStatement>>>();
        TemplateExpression condition = ParseExpression();
        ExpectBlockEnd("if");
        while (true)
        {
            List<TemplateStatement> body = ParseBody(["elif", "else", "endif"], out string end, offset);
            branches.Add(new(condition, body));
            if (end == "elif")
            {
                condition = ParseExpression();
                ExpectBlockEnd("elif");
                continue;
            }

            if (end == "else")
            {
                ExpectBlockEnd("else");
                List<TemplateStatement> otherwise = ParseBody(["endif"], out _, offset);
                ExpectBlockEnd("endif");
                return new TemplateStatement.If(offset, branches, otherwise);
            }

            ExpectBlockEnd("endif");
            return new TemplateStatement.If(offset, branches, null);
        }
    }

    private TemplateStatement.For ParseFor(int offset)
    {
        var targets = new List<string>();
        bool parenthesized = SkipOperator("(");
        do
        {
            targets.Add(ExpectName("a loop variable"));
        }
        while (SkipOperator(","));
        if (parenthesized)
        {
            ExpectOperator(")");
        }

        if (!SkipName("in"))
        {
            throw Error(Current, $"Expected 'in' in 'for' tag, found {Describe(Current)}.");
        }

        // No conditional expression here: a trailing 'if' filters the loop.
        TemplateExpression iterable = ParseOr();
        TemplateExpression? condition = SkipName("if") ? ParseExpression() : null;
        if (Current.IsName("recursive"))
        {
            throw Error(Current, "Recursive loops are not supported.");
        }

        ExpectBlockEnd("for");
        List<TemplateStatement> body = ParseBody(["else", "endfor"], out string end, offset);
        List<TemplateStatement>? otherwise = null;
        if (end == "else")
        {
            ExpectBlockEnd("else");
            otherwise = ParseBody(["endfor"], out _, offset);
        }

        ExpectBlockEnd("endfor");
        return new TemplateStatement.For(offset, targets, iterable, condition, body, otherwise);
    }

    private TemplateStatement ParseSet(int offset)
    {
        string first = ExpectName("a variable name");
        if (SkipOperator("."))
        {
            string attribute = ExpectName("an attribute name");
            ExpectOperator("=");
            TemplateExpression value = ParseTupleOrExpression();
            ExpectBlockEnd("set");
            return new TemplateStatement.SetAttribute(offset, first, attribute, value);
        }

        var targets = new List<string> { first };
        while (SkipOperator(","))
        {
            targets.Add(ExpectName("a variable name"));
        }

        if (SkipOperator("="))
        {
            TemplateExpression value = ParseTupleOrExpression();
            ExpectBlockEnd("set");
            return new TemplateStatement.Set(offset, targets, value);
        }

        if (targets.Count != 1)
        {
            throw Error(Current, "A block 'set' assigns exactly one variable.");
        }

        ExpectBlockEnd("set");
        List<TemplateStatement> body = ParseBody(["endset"], out _, offset);
        ExpectBlockEnd("endset");
        return new TemplateStatement.SetBlock(offset, first, body);
    }

    private TemplateStatement.Macro ParseMacro(int offset)
    {
        string name = ExpectName("a macro name");
        ExpectOperator("(");
        var parameters = new List<KeyValuePair<string, TemplateExpression?>>();
        while (!Current.IsOperator(")"))
        {
            string parameter = ExpectName("a parameter name");
            TemplateExpression? fallback = SkipOperator("=") ? ParseExpression() : null;
            parameters.Add(new(parameter, fallback));
            if (!SkipOperator(","))
            {
                break;
            }
        }

        ExpectOperator(")");
        ExpectBlockEnd("macro");
        List<TemplateStatement> body = ParseBody(["endmacro"], out _, offset);
        if (Current.Kind == TemplateTokenKind.Name)
        {
            _pos++; // {% endmacro name %}
        }

        ExpectBlockEnd("endmacro");
        return new TemplateStatement.Macro(offset, name, parameters, body);
    }

    private TemplateExpression ParseTupleOrExpression()
    {
        int offset = Current.Offset;
        TemplateExpression first = ParseExpression();
        if (!Current.IsOperator(","))
        {
            return first;
        }

        var items = new List<TemplateExpression> { first };
        while (SkipOperator(","))
        {
            if (Current.Kind is TemplateTokenKind.BlockEnd or TemplateTokenKind.VariableEnd)
            {
                break;
            }

            items.Add(ParseExpression());
        }

        return new TemplateExpression.ListLiteral(offset, items);
    }

    public TemplateExpression ParseExpression()
    {
        TemplateExpression expr = ParseOr();
        while (Current.IsName("if"))
        {
            int offset = Next().Offset;
            TemplateExpression condition = ParseOr();
            TemplateExpression? otherwise = SkipName("else") ? ParseExpression() : null;
            expr = new TemplateExpression.Conditional(offset, expr, condition, otherwise);
        }

        return expr;
    }

    private TemplateExpression ParseOr() => ParseKeywordChain("or", ParseAnd);

    private TemplateExpression ParseAnd() => ParseKeywordChain("and", ParseNot);

    // operand (keyword operand)*, left-associative: Jinja's `or` and `and`.
    private TemplateExpression ParseKeywordChain(string keyword, Func<TemplateExpression> operand)
    {
        TemplateExpression left = operand();
        while (Current.IsName(keyword))
        {
            int offset = Next().Offset;
            left = new TemplateExpression.Binary(offset, keyword, left, operand());
        }

        return left;
    }

    private TemplateExpression ParseNot()
    {
        if (Current.IsName("not"))
        {
            int offset = Next().Offset;
            return new TemplateExpression.Unary(offset, "not", ParseNot());
        }

        return ParseCompare();
    }

    private TemplateExpression ParseCompare()
    {
        TemplateExpression left = ParseMath1();
        TemplateExpression? result = null;
        while (true)
        {
            TemplateToken token = Current;
            string? op = null;
            if (token.Kind == TemplateTokenKind.Operator && Array.IndexOf(s_compareOperators, token.Text) >= 0)
            {
                op = token.Text;
                _pos++;
            }
            else if (token.IsName("in"))
            {
                op = "in";
                _pos++;
            }
            else if (token.IsName("not") && _tokens[_pos + 1].IsName("in"))
            {
                op = "not in";
                _pos += 2;
            }

            if (op is null)
            {
                return result ?? left;
            }

            // Chained comparisons (a < b < c) mean (a < b) and (b < c), as in Python.
            TemplateExpression right = ParseMath1();
            TemplateExpression comparison = new TemplateExpression.Binary(token.Offset, op, left, right);
            result = result is null ? comparison : new TemplateExpression.Binary(token.Offset, "and", result, comparison);
            left = right;
        }
    }

    private TemplateExpression ParseMath1()
    {
        TemplateExpression left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            TemplateToken op = Next();
            left = new TemplateExpression.Binary(op.Offset, op.Text, left, ParseConcat());
        }

        return left;
    }

    private TemplateExpression ParseConcat()
    {
        TemplateExpression left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            TemplateToken op = Next();
            left = new TemplateExpression.Binary(op.Offset, "~", left, ParseMath2());
        }

        return left;
    }

    private TemplateExpression ParseMath2()
    {
        TemplateExpression left = ParsePow();
        while (Current.IsOperator("*") || Current.IsOperator("/") || Current.IsOperator("//") || Current.IsOperator("%"))
        {
            TemplateToken op = Next();
            left = new TemplateExpression.Binary(op.Offset, op.Text, left, ParsePow());
        }

        return left;
    }

    private TemplateExpression ParsePow()
    {
        TemplateExpression left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            TemplateToken op = Next();
            left = new TemplateExpression.Binary(op.Offset, "**", left, ParseUnary(withFilter: true));
        }

        return left;
    }

    private TemplateExpression ParseUnary(bool withFilter)
    {
        TemplateToken token = Current;
        TemplateExpression node;
        if (token.IsOperator("-") || token.IsOperator("+"))
        {
            _pos++;
            node = new TemplateExpression.Unary(token.Offset, token.Text, ParseUnary(withFilter: false));
        }
        else
        {
            node = ParsePrimary();
        }

        node = ParsePostfix(node);
        return withFilter ? ParseFilterAndTest(node) : node;
    }

    private TemplateExpression ParsePrimary()
    {
        TemplateToken token = Next();
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error(token, "Expression nested too deeply.");
        }

        switch (token.Kind)
        {
            case TemplateTokenKind.Name:
                return token.Text switch
                {
                    "true" or "True" => new TemplateExpression.Literal(token.Offset, true),
                    "false" or "False" => new TemplateExpression.Literal(token.Offset, false),
                    "none" or "None" => new TemplateExpression.Literal(token.Offset, null),
                    _ => new TemplateExpression.Variable(token.Offset, token.Text),
                };
            case TemplateTokenKind.String:
                string text = token.Text;
                while (Current.Kind == TemplateTokenKind.String)
                {
                    text += Next().Text; // adjacent literals concatenate, as in Python
                }

                return new TemplateExpression.Literal(token.Offset, text);
            case TemplateTokenKind.Integer:
                return new TemplateExpression.Literal(token.Offset, token.IntegerValue);
            case TemplateTokenKind.Float:
                return new TemplateExpression.Literal(token.Offset, token.FloatValue);
            case TemplateTokenKind.Operator when token.Text == "(":
                if (SkipOperator(")"))
                {
                    return new TemplateExpression.ListLiteral(token.Offset, []);
                }

                TemplateExpression inner = ParseExpression();
                if (Current.IsOperator(","))
                {
                    var items = new List<TemplateExpression> { inner };
                    while (SkipOperator(",") && !Current.IsOperator(")"))
                    {
                        items.Add(ParseExpression());
                    }

                    inner = new TemplateExpression.ListLiteral(token.Offset, items);
                }

                ExpectOperator(")");
                return inner;
            case TemplateTokenKind.Operator when token.Text == "[":
                var list = new List<TemplateExpression>();
                while (!Current.IsOperator("]"))
                {
                    list.Add(ParseExpression());
                    if (!SkipOperator(","))
                    {
                        break;
                    }
                }

                ExpectOperator("]");
                return new TemplateExpression.ListLiteral(token.Offset, list);
            case TemplateTokenKind.Operator when token.Text == "{":
                var pairs = new List<KeyValuePair<TemplateExpression, TemplateExpression>>();
                while (!Current.IsOperator("}"))
                {
                    TemplateExpression key = ParseExpression();
                    ExpectOperator(":");
                    pairs.Add(new(key, ParseExpression()));
                    if (!SkipOperator(","))
                    {
                        break;
                    }
                }

                ExpectOperator("}");
                return new TemplateExpression.DictLiteral(token.Offset, pairs);
            default:
                throw Error(token, $"Unexpected {Describe(token)} in expression.");
        }
    }

    private TemplateExpression ParsePostfix(TemplateExpression node)
    {
        while (true)
        {
            TemplateToken token = Current;
            if (token.IsOperator("."))
            {
                _pos++;
                TemplateToken member = Next();
                node = member.Kind switch
                {
                    TemplateTokenKind.Name => new TemplateExpression.GetAttribute(token.Offset, node, member.Text),
                    TemplateTokenKind.Integer => new TemplateExpression.GetItem(token.Offset, node, new TemplateExpression.Literal(member.Offset, member.IntegerValue)),
                    _ => throw Error(member, $"Expected an attribute name after '.', found {Describe(member)}."),
                };
            }
            else if (token.IsOperator("["))
            {
                _pos++;
                node = ParseSubscript(token.Offset, node);
            }
            else if (token.IsOperator("("))
            {
                _pos++;
                (List<TemplateExpression> args, List<KeyValuePair<string, TemplateExpression>> kwargs) = ParseCallArguments();
                node = new TemplateExpression.Call(node.Offset, node, args, kwargs);
            }
            else
            {
                return node;
            }
        }
    }

    private TemplateExpression ParseSubscript(int offset, TemplateExpression target)
    {
        TemplateExpression? start = Current.IsOperator(":") ? null : ParseExpression();
        if (!SkipOperator(":"))
        {
            ExpectOperator("]");
            return new TemplateExpression.GetItem(offset, target, start!);
        }

        TemplateExpression? stop = Current.IsOperator(":") || Current.IsOperator("]") ? null : ParseExpression();
        TemplateExpression? step = null;
        if (SkipOperator(":") && !Current.IsOperator("]"))
        {
            step = ParseExpression();
        }

        ExpectOperator("]");
        return new TemplateExpression.Slice(offset, target, start, stop, step);
    }

    // After '(' has been consumed; consumes the closing ')'.
    private (List<TemplateExpression> Args, List<KeyValuePair<string, TemplateExpression>> Kwargs) ParseCallArguments()
    {
        var args = new List<TemplateExpression>();
        var kwargs = new List<KeyValuePair<string, TemplateExpression>>();
        while (!Current.IsOperator(")"))
        {
            if (Current.IsOperator("*") || Current.IsOperator("**"))
            {
                throw Error(Current, "Argument unpacking (*args, **kwargs) is not supported.");
            }

            if (Current.Kind == TemplateTokenKind.Name && _tokens[_pos + 1].IsOperator("="))
            {
                string name = Next().Text;
                _pos++;
                kwargs.Add(new(name, ParseExpression()));
            }
            else
            {
                if (kwargs.Count > 0)
                {
                    throw Error(Current, "Positional argument after keyword argument.");
                }

                args.Add(ParseExpression());
            }

            if (!SkipOperator(","))
            {
                break;
            }
        }

        ExpectOperator(")");
        return (args, kwargs);
    }

    private TemplateExpression ParseFilterAndTest(TemplateExpression node)
    {
        while (true)
        {
            TemplateToken token = Current;
            if (token.IsOperator("|"))
            {
                _pos++;
                string name = ExpectName("a filter name");
                List<TemplateExpression> args = [];
                List<KeyValuePair<string, TemplateExpression>> kwargs = [];
                if (SkipOperator("("))
                {
                    (args, kwargs) = ParseCallArguments();
                }

                node = new TemplateExpression.Filter(token.Offset, node, name, args, kwargs);
            }
            else if (token.IsName("is"))
            {
                _pos++;
                bool negated = SkipName("not");
                TemplateToken testToken = Next();
                if (testToken.Kind is not (TemplateTokenKind.Name or TemplateTokenKind.Operator))
                {
                    throw Error(testToken, $"Expected a test name after 'is', found {Describe(testToken)}.");
                }

                var args = new List<TemplateExpression>();
                if (SkipOperator("("))
                {
                    (args, List<KeyValuePair<string, TemplateExpression>> kwargs) = ParseCallArguments();
                    if (kwargs.Count > 0)
                    {
                        throw Error(testToken, "Tests do not take keyword arguments.");
                    }
                }
                else if (StartsTestArgument(Current))
                {
                    args.Add(ParsePostfix(ParsePrimary()));
                }

                node = new TemplateExpression.Test(token.Offset, node, testToken.Text, args, negated);
            }
            else
            {
                return node;
            }
        }
    }

    private static bool StartsTestArgument(TemplateToken token) => token.Kind switch
    {
        TemplateTokenKind.Name => Array.IndexOf(s_testArgumentStops, token.Text) < 0,
        TemplateTokenKind.String or TemplateTokenKind.Integer or TemplateTokenKind.Float => true,
        TemplateTokenKind.Operator => token.Text is "[" or "{",
        _ => false,
    };
}
