namespace Tq.Core.Templates;

/// <summary>An expression node of a parsed template. Concrete nodes are nested: they are only meaningful together.</summary>
internal abstract class TemplateExpression(int offset)
{
    /// <summary>Offset of the node in the template source, for error positions.</summary>
    public int Offset { get; } = offset;

    public object? Evaluate(TemplateScope scope)
    {
        // Deeply nested input must end in an exception, never in a stack overflow.
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        try
        {
            return EvaluateCore(scope);
        }
        catch (ChatTemplateException e) when (e.Line is null)
        {
            throw e.IsRaisedByTemplate
                ? TemplateErrors.Raised(scope.State.Source, Offset, e.Message)
                : TemplateErrors.Runtime(scope.State.Source, Offset, e.Message);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or DivideByZeroException or InvalidCastException or KeyNotFoundException)
        {
            throw TemplateErrors.Runtime(scope.State.Source, Offset, e.Message, e);
        }
    }

    protected abstract object? EvaluateCore(TemplateScope scope);

    private static TemplateArguments EvaluateArguments(TemplateScope scope, List<TemplateExpression> args, List<KeyValuePair<string, TemplateExpression>> kwargs, object? first = null, bool hasFirst = false)
    {
        if (args.Count == 0 && kwargs.Count == 0 && !hasFirst)
        {
            return TemplateArguments.Empty;
        }

        var positional = new List<object?>(args.Count + 1);
        if (hasFirst)
        {
            positional.Add(first);
        }

        foreach (TemplateExpression arg in args)
        {
            positional.Add(arg.Evaluate(scope));
        }

        var named = new List<KeyValuePair<string, object?>>(kwargs.Count);
        foreach (KeyValuePair<string, TemplateExpression> kwarg in kwargs)
        {
            named.Add(new(kwarg.Key, kwarg.Value.Evaluate(scope)));
        }

        return new TemplateArguments(positional, named);
    }

    /// <summary>A constant.</summary>
    internal sealed class Literal(int offset, object? value) : TemplateExpression(offset)
    {
        public object? Value { get; } = value;

        protected override object? EvaluateCore(TemplateScope scope) => Value;
    }

    /// <summary>A variable reference; missing variables are undefined.</summary>
    internal sealed class Variable(int offset, string name) : TemplateExpression(offset)
    {
        public string Name { get; } = name;

        protected override object? EvaluateCore(TemplateScope scope) => scope.Lookup(Name);
    }

    /// <summary><c>[a, b]</c> (also tuples <c>(a, b)</c>).</summary>
    internal sealed class ListLiteral(int offset, List<TemplateExpression> items) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope)
        {
            var list = new List<object?>(items.Count);
            foreach (TemplateExpression item in items)
            {
                list.Add(item.Evaluate(scope));
            }

            return list;
        }
    }

    /// <summary><c>{"k": v}</c>.</summary>
    internal sealed class DictLiteral(int offset, List<KeyValuePair<TemplateExpression, TemplateExpression>> pairs) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope)
        {
            var dict = new TemplateDictionary(pairs.Count);
            foreach (KeyValuePair<TemplateExpression, TemplateExpression> pair in pairs)
            {
                object? key = pair.Key.Evaluate(scope);
                string name = key switch
                {
                    string s => s,
                    long or double or bool => TemplateValue.ToStr(key),
                    _ => throw TemplateErrors.Type($"Mapping keys must be strings or numbers, got {TemplateValue.TypeName(key)}."),
                };
                dict[name] = pair.Value.Evaluate(scope);
            }

            return dict;
        }
    }

    /// <summary><c>target.name</c>.</summary>
    internal sealed class GetAttribute(int offset, TemplateExpression target, string name) : TemplateExpression(offset)
    {
        public TemplateExpression Target { get; } = target;

        public string Name { get; } = name;

        protected override object? EvaluateCore(TemplateScope scope) => TemplateMembers.GetAttribute(Target.Evaluate(scope), Name);
    }

    /// <summary><c>target[key]</c>.</summary>
    internal sealed class GetItem(int offset, TemplateExpression target, TemplateExpression key) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope) => TemplateMembers.GetItem(target.Evaluate(scope), key.Evaluate(scope));
    }

    /// <summary><c>target[start:stop:step]</c>.</summary>
    internal sealed class Slice(int offset, TemplateExpression target, TemplateExpression? start, TemplateExpression? stop, TemplateExpression? step) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope)
        {
            object? value = target.Evaluate(scope);
            long? startValue = EvaluateBound(start, scope);
            long? stopValue = EvaluateBound(stop, scope);
            long? stepValue = EvaluateBound(step, scope);
            return TemplateMembers.Slice(value, startValue, stopValue, stepValue ?? 1);
        }

        private static long? EvaluateBound(TemplateExpression? bound, TemplateScope scope)
        {
            if (bound is null)
            {
                return null;
            }

            object? value = bound.Evaluate(scope);
            return value is null or Undefined ? null : TemplateValue.ToLong(value);
        }
    }

    /// <summary><c>callee(args)</c>: a global, a macro, or a method of a string, list or mapping.</summary>
    internal sealed class Call(int offset, TemplateExpression callee, List<TemplateExpression> args, List<KeyValuePair<string, TemplateExpression>> kwargs) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope)
        {
            if (callee is GetAttribute method)
            {
                object? target = method.Target.Evaluate(scope);
                object? member = target is TemplateDictionary dict && dict.TryGetValue(method.Name, out object? stored) ? stored : null;
                if (member is not TemplateFunction)
                {
                    TemplateArguments methodArgs = EvaluateArguments(scope, args, kwargs);
                    return TemplateMembers.CallMethod(target, method.Name, methodArgs);
                }
            }

            object? function = callee.Evaluate(scope);
            if (function is not TemplateFunction f)
            {
                string name = callee is Variable v ? v.Name : "expression";
                throw TemplateErrors.Type(function is Undefined
                    ? $"'{name}' is undefined and cannot be called."
                    : $"'{name}' is a {TemplateValue.TypeName(function)}, not a function.");
            }

            return f.Invoke(EvaluateArguments(scope, args, kwargs), scope.State);
        }
    }

    /// <summary><c>target | name(args)</c>.</summary>
    internal sealed class Filter(int offset, TemplateExpression target, string name, List<TemplateExpression> args, List<KeyValuePair<string, TemplateExpression>> kwargs) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope)
        {
            object? value = target.Evaluate(scope);
            return TemplateFilters.Apply(name, value, EvaluateArguments(scope, args, kwargs), scope.State);
        }
    }

    /// <summary><c>target is [not] name(args)</c>.</summary>
    internal sealed class Test(int offset, TemplateExpression target, string name, List<TemplateExpression> args, bool negated) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope)
        {
            object? value = target.Evaluate(scope);
            bool result = TemplateTests.Apply(name, value, EvaluateArguments(scope, args, []));
            return result != negated;
        }
    }

    /// <summary><c>not x</c>, <c>-x</c>, <c>+x</c>.</summary>
    internal sealed class Unary(int offset, string op, TemplateExpression operand) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope)
        {
            object? value = operand.Evaluate(scope);
            return op switch
            {
                "not" => !TemplateValue.IsTruthy(value),
                "-" => value switch
                {
                    long l => (object)(-l),
                    double d => -d,
                    _ => throw TemplateErrors.Type($"Cannot negate a {TemplateValue.TypeName(value)}."),
                },
                _ => TemplateValue.IsNumber(value) ? value : throw TemplateErrors.Type($"Unary '+' needs a number, got {TemplateValue.TypeName(value)}."),
            };
        }
    }

    /// <summary>Binary operators; <c>and</c>/<c>or</c> short-circuit and return an operand, as in Python.</summary>
    internal sealed class Binary(int offset, string op, TemplateExpression left, TemplateExpression right) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope)
        {
            object? l = left.Evaluate(scope);
            switch (op)
            {
                case "and":
                    return TemplateValue.IsTruthy(l) ? right.Evaluate(scope) : l;
                case "or":
                    return TemplateValue.IsTruthy(l) ? l : right.Evaluate(scope);
            }

            object? r = right.Evaluate(scope);
            return op switch
            {
                "==" => TemplateValue.Equals(l, r),
                "!=" => !TemplateValue.Equals(l, r),
                "<" => TemplateValue.Compare(l, r) < 0,
                "<=" => TemplateValue.Compare(l, r) <= 0,
                ">" => TemplateValue.Compare(l, r) > 0,
                ">=" => TemplateValue.Compare(l, r) >= 0,
                "in" => TemplateValue.Contains(r, l),
                "not in" => !TemplateValue.Contains(r, l),
                "~" => TemplateValue.ToConcatString(l) + TemplateValue.ToConcatString(r),
                _ => TemplateArithmetic.Apply(op, l, r),
            };
        }
    }

    /// <summary><c>then if condition else otherwise</c>; a missing <c>else</c> gives undefined.</summary>
    internal sealed class Conditional(int offset, TemplateExpression then, TemplateExpression condition, TemplateExpression? otherwise) : TemplateExpression(offset)
    {
        protected override object? EvaluateCore(TemplateScope scope) =>
            TemplateValue.IsTruthy(condition.Evaluate(scope)) ? then.Evaluate(scope) : otherwise is null ? Undefined.Instance : otherwise.Evaluate(scope);
    }
}
