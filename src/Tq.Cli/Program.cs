using System.CommandLine.Help;
using Tq.Cli.Commands;

var root = new RootCommand("tq: run local GGUF models with a TurboQuant-compressed KV cache, and measure them.")
{
    InfoCommand.Create(),
    ChatCommand.Create(),
    ServeCommand.Create(),
    PullCommand.Create(),
    ListCommand.Create(),
    BenchmarkCommand.Create(),
    CompareCommand.Create(),
    NiahCommand.Create(),
    RunCommand.Create(),
    PerplexityCommand.Create(),
    BenchCommand.Create(),
    TemplateCommand.Create(),
    TokenizeCommand.Create(),
};

ParseResult parse = root.Parse(args);

// A mistyped command line is one clear line on stderr (see `tq <command> --help`), not the whole help text.
if (args.Length > 0 && parse.Errors.Count > 0 && parse.Action is not HelpAction)
{
    string errors = string.Join(" ", parse.Errors.Select(e => CliErrors.ParseError(e.Message)));
    string help = parse.CommandResult.Command == root ? "tq --help" : $"tq {parse.CommandResult.Command.Name} --help";
    Console.Error.WriteLine($"tq: {errors} See `{help}`.");
    return 1;
}

return await parse.InvokeAsync().ConfigureAwait(false);
