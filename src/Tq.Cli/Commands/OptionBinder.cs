namespace Tq.Cli.Commands;

/// <summary>
/// Command-line options that fill one options object (<c>SamplerOptions</c>, <c>KvCacheOptions</c>,
/// <c>TurboQuantChatOptions</c>): each option is declared together with the property it sets, so an option is one line
/// instead of a declaration, an entry in the command's list and an assignment in its action.
/// </summary>
/// <typeparam name="T">The options object.</typeparam>
internal sealed class OptionBinder<T>
{
    private readonly List<Option> _options = [];
    private readonly List<Action<ParseResult, T>> _setters = [];

    /// <summary>The options, in the order they were added (for the command's list).</summary>
    public IReadOnlyList<Option> Options => _options;

    /// <summary>Adds <paramref name="option"/>, whose value <paramref name="set"/> stores in the options object.</summary>
    /// <returns>This binder.</returns>
    public OptionBinder<T> Add<TValue>(Option<TValue> option, Action<T, TValue> set)
    {
        _options.Add(option);
        _setters.Add((parse, target) => set(target, parse.GetValue(option)!));
        return this;
    }

    /// <summary>Sets the properties of <paramref name="target"/> from <paramref name="parse"/>.</summary>
    /// <returns><paramref name="target"/>.</returns>
    public T Bind(ParseResult parse, T target)
    {
        foreach (Action<ParseResult, T> set in _setters)
        {
            set(parse, target);
        }

        return target;
    }
}
