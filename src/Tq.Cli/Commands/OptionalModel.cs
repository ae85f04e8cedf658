namespace Tq.Cli.Commands;

/// <summary>
/// The model of the commands that also run without one (<c>tq info</c>, <c>tq template</c>): an optional argument, or
/// <c>--model/-m</c> as every other command takes it.
/// </summary>
internal sealed class OptionalModel
{
    private readonly Argument<FileInfo?> _argument;
    private readonly Option<FileInfo?> _option;

    /// <param name="description">What the model is for, a sentence.</param>
    public OptionalModel(string description)
    {
        _argument = new Argument<FileInfo?>("model") { Description = description, Arity = ArgumentArity.ZeroOrOne };
        _option = new Option<FileInfo?>("--model", "-m") { Description = $"{description.TrimEnd('.')} (same as the argument)." };
    }

    /// <summary>Adds the argument and, first of the options, <c>--model</c>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Insert(0, _option);
        command.Arguments.Add(_argument);
    }

    /// <summary>The model given (<c>--model</c> when both are), or null.</summary>
    public FileInfo? Read(ParseResult parse) => parse.GetValue(_option) ?? parse.GetValue(_argument);
}
