using System.Text;

namespace Tq.Core.Templates;

/// <summary>A statement node of a parsed template. Concrete nodes are nested: they are only meaningful together.</summary>
internal abstract class TemplateStatement(int offset)
{
    private const int MaxDepth = 256;

    /// <summary>Offset of the node in the template source, for error positions.</summary>
    public int Offset { get; } = offset;

    public LoopControl Render(TemplateScope scope, StringBuilder output)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        try
        {
            return RenderCore(scope, output);
        }
        catch (ChatTemplateException e) when (e.Line is null)
        {
            throw e.IsRaisedByTemplate
                ? TemplateErrors.Raised(scope.State.Source, Offset, e.Message)
                : TemplateErrors.Runtime(scope.State.Source, Offset, e.Message);
        }
    }

    public static LoopControl RenderAll(List<TemplateStatement> body, TemplateScope scope, StringBuilder output)
    {
        foreach (TemplateStatement stmt in body)
        {
            LoopControl control = stmt.Render(scope, output);
            if (control != LoopControl.None)
            {
                return control;
            }
        }

        return LoopControl.None;
    }

    protected abstract LoopControl RenderCore(TemplateScope scope, StringBuilder output);

    /// <summary>Literal text.</summary>
    internal sealed class Text(int offset, string text) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output)
        {
            output.Append(text);
            return LoopControl.None;
        }
    }

    /// <summary><c>{{ expr }}</c>.</summary>
    internal sealed class Output(int offset, TemplateExpression expr) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output)
        {
            output.Append(TemplateValue.ToOutput(expr.Evaluate(scope)));
            return LoopControl.None;
        }
    }

    /// <summary>A sequence of statements in the enclosing scope (bodies of <c>generation</c> blocks).</summary>
    internal sealed class Group(int offset, List<TemplateStatement> body) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output) => RenderAll(body, scope, output);
    }

    /// <summary><c>{% if %}...{% elif %}...{% else %}...{% endif %}</c>.</summary>
    internal sealed class If(int offset, List<KeyValuePair<TemplateExpression, List<TemplateStatement>>> branches, List<TemplateStatement>? otherwise) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output)
        {
            foreach (KeyValuePair<TemplateExpression, List<TemplateStatement>> branch in branches)
            {
                if (TemplateValue.IsTruthy(branch.Key.Evaluate(scope)))
                {
                    return RenderAll(branch.Value, scope, output);
                }
            }

            return otherwise is null ? LoopControl.None : RenderAll(otherwise, scope, output);
        }
    }

    /// <summary><c>{% for a[, b] in items [if cond] %}...{% else %}...{% endfor %}</c> with the <c>loop</c> variable.</summary>
    internal sealed class For(int offset, List<string> targets, TemplateExpression iterable, TemplateExpression? condition, List<TemplateStatement> body, List<TemplateStatement>? otherwise) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output)
        {
            List<object?> items = TemplateValue.Iterate(iterable.Evaluate(scope));
            if (condition is not null)
            {
                var kept = new List<object?>(items.Count);
                foreach (object? item in items)
                {
                    var probe = new TemplateScope(scope.State, scope);
                    Bind(probe, item);
                    if (TemplateValue.IsTruthy(condition.Evaluate(probe)))
                    {
                        kept.Add(item);
                    }
                }

                items = kept;
            }
            else
            {
                // A body that mutates the list it iterates must not disturb the iteration.
                items = [.. items];
            }

            if (items.Count == 0)
            {
                return otherwise is null ? LoopControl.None : RenderAll(otherwise, scope, output);
            }

            // One scope for the whole loop, as llama.cpp's engine has: a 'set' in the body is visible in later
            // iterations but not after the loop.
            var iteration = new TemplateScope(scope.State, scope);
            for (int i = 0; i < items.Count; i++)
            {
                Bind(iteration, items[i]);
                var loop = new TemplateDictionary(12)
                {
                    ["index"] = (long)(i + 1),
                    ["index0"] = (long)i,
                    ["revindex"] = (long)(items.Count - i),
                    ["revindex0"] = (long)(items.Count - i - 1),
                    ["first"] = i == 0,
                    ["last"] = i == items.Count - 1,
                    ["length"] = (long)items.Count,
                    ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance,
                    ["nextitem"] = i < items.Count - 1 ? items[i + 1] : Undefined.Instance,
                    ["depth"] = 1L,
                    ["depth0"] = 0L,
                };
                int index = i;
                loop["cycle"] = new TemplateFunction("cycle", (args, _) =>
                    args.Positional.Count == 0 ? throw TemplateErrors.Type("loop.cycle needs arguments.") : args.Positional[index % args.Positional.Count]);
                iteration.Set("loop", loop);
                if (RenderAll(body, iteration, output) == LoopControl.Break)
                {
                    break;
                }
            }

            return LoopControl.None;
        }

        private void Bind(TemplateScope scope, object? item)
        {
            if (targets.Count == 1)
            {
                scope.Set(targets[0], item);
                return;
            }

            if (item is not List<object?> tuple || tuple.Count != targets.Count)
            {
                throw TemplateErrors.Type($"Cannot unpack a {TemplateValue.TypeName(item)} into {targets.Count} loop variables.");
            }

            for (int i = 0; i < targets.Count; i++)
            {
                scope.Set(targets[i], tuple[i]);
            }
        }
    }

    /// <summary><c>{% set a[, b] = expr %}</c>.</summary>
    internal sealed class Set(int offset, List<string> targets, TemplateExpression value) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output)
        {
            object? result = value.Evaluate(scope);
            if (targets.Count == 1)
            {
                scope.Set(targets[0], result);
                return LoopControl.None;
            }

            if (result is not List<object?> tuple || tuple.Count != targets.Count)
            {
                throw TemplateErrors.Type($"Cannot unpack a {TemplateValue.TypeName(result)} into {targets.Count} variables.");
            }

            for (int i = 0; i < targets.Count; i++)
            {
                scope.Set(targets[i], tuple[i]);
            }

            return LoopControl.None;
        }
    }

    /// <summary><c>{% set ns.attr = expr %}</c>: the way to carry values out of loops.</summary>
    internal sealed class SetAttribute(int offset, string target, string attribute, TemplateExpression value) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output)
        {
            if (scope.Lookup(target) is not TemplateDictionary ns)
            {
                throw TemplateErrors.Type($"Cannot assign attribute '{attribute}': '{target}' is not a namespace or mapping.");
            }

            ns[attribute] = value.Evaluate(scope);
            return LoopControl.None;
        }
    }

    /// <summary><c>{% set x %}...{% endset %}</c>.</summary>
    internal sealed class SetBlock(int offset, string target, List<TemplateStatement> body) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output)
        {
            var captured = new StringBuilder();
            RenderAll(body, scope, captured);
            scope.Set(target, captured.ToString());
            return LoopControl.None;
        }
    }

    /// <summary><c>{% do expr %}</c>.</summary>
    internal sealed class Do(int offset, TemplateExpression expr) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output)
        {
            expr.Evaluate(scope);
            return LoopControl.None;
        }
    }

    /// <summary><c>{% break %}</c> / <c>{% continue %}</c>.</summary>
    internal sealed class Jump(int offset, LoopControl control) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output) => control;
    }

    /// <summary><c>{% macro name(a, b=default) %}...{% endmacro %}</c>: defines a function returning its rendered body.</summary>
    internal sealed class Macro(int offset, string name, List<KeyValuePair<string, TemplateExpression?>> parameters, List<TemplateStatement> body) : TemplateStatement(offset)
    {
        protected override LoopControl RenderCore(TemplateScope scope, StringBuilder output)
        {
            TemplateScope definition = scope;
            scope.Set(name, new TemplateFunction(name, (args, state) => Invoke(definition, args, state)));
            return LoopControl.None;
        }

        private string Invoke(TemplateScope definition, TemplateArguments args, RenderState state)
        {
            if (args.Positional.Count > parameters.Count)
            {
                throw TemplateErrors.Type($"Macro '{name}' takes {parameters.Count} argument(s), got {args.Positional.Count}.");
            }

            var call = new TemplateScope(state, definition);
            for (int i = 0; i < parameters.Count; i++)
            {
                KeyValuePair<string, TemplateExpression?> parameter = parameters[i];
                object? value = args.Has(i, parameter.Key)
                    ? args.Get(i, parameter.Key)
                    : parameter.Value is null ? Undefined.Instance : parameter.Value.Evaluate(call);
                call.Set(parameter.Key, value);
            }

            foreach (KeyValuePair<string, object?> named in args.Named)
            {
                if (!parameters.Exists(p => string.Equals(p.Key, named.Key, StringComparison.Ordinal)))
                {
                    throw TemplateErrors.Type($"Macro '{name}' has no parameter '{named.Key}'.");
                }
            }

            if (++state.Depth > MaxDepth)
            {
                throw TemplateErrors.Type($"Macro recursion deeper than {MaxDepth} calls.");
            }

            try
            {
                var output = new StringBuilder();
                RenderAll(body, call, output);
                return output.ToString();
            }
            finally
            {
                state.Depth--;
            }
        }
    }
}
