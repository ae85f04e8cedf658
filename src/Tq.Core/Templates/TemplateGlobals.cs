namespace Tq.Core.Templates;

/// <summary>The global functions every template can call: <c>range</c>, <c>namespace</c>, <c>dict</c>, <c>raise_exception</c>, <c>strftime_now</c>.</summary>
internal static class TemplateGlobals
{
    private static readonly TemplateFunction s_range = new("range", (args, _) => Range(args));
    private static readonly TemplateFunction s_namespace = new("namespace", (args, _) => Namespace(args));
    private static readonly TemplateFunction s_dict = new("dict", (args, _) => Namespace(args));
    private static readonly TemplateFunction s_raise = new("raise_exception", (args, _) =>
        throw new ChatTemplateException(TemplateValue.ToStr(args.Get(0, "message", "raise_exception called")), line: null, column: null, raisedByTemplate: true));

    private static readonly TemplateFunction s_strftime = new("strftime_now", (args, state) =>
        TemplateStrftime.Format(state.Now, args.Get(0, "format") as string ?? throw TemplateErrors.Type("strftime_now needs a format string.")));

    public static void Register(TemplateScope scope)
    {
        scope.Set("range", s_range);
        scope.Set("namespace", s_namespace);
        scope.Set("dict", s_dict);
        scope.Set("raise_exception", s_raise);
        scope.Set("strftime_now", s_strftime);
    }

    private static List<object?> Range(TemplateArguments args)
    {
        if (args.Named.Count > 0 || args.Positional.Count is < 1 or > 3)
        {
            throw TemplateErrors.Type("range takes 1 to 3 positional arguments.");
        }

        long start = 0;
        long step = 1;
        long stop;
        if (args.Positional.Count == 1)
        {
            stop = TemplateValue.ToLong(args.Positional[0]);
        }
        else
        {
            start = TemplateValue.ToLong(args.Positional[0]);
            stop = TemplateValue.ToLong(args.Positional[1]);
            if (args.Positional.Count == 3)
            {
                step = TemplateValue.ToLong(args.Positional[2]);
            }
        }

        if (step == 0)
        {
            throw TemplateErrors.Type("range step must not be zero.");
        }

        var result = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= 1_000_000)
            {
                throw TemplateErrors.Type("range is too large.");
            }

            result.Add(i);
        }

        return result;
    }

    private static TemplateDictionary Namespace(TemplateArguments args)
    {
        var ns = new TemplateDictionary();
        foreach (object? positional in args.Positional)
        {
            if (positional is not TemplateDictionary initial)
            {
                throw TemplateErrors.Type("namespace()/dict() positional arguments must be mappings.");
            }

            foreach (KeyValuePair<string, object?> pair in initial)
            {
                ns[pair.Key] = pair.Value;
            }
        }

        foreach (KeyValuePair<string, object?> pair in args.Named)
        {
            ns[pair.Key] = pair.Value;
        }

        return ns;
    }
}
