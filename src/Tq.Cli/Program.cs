using System.CommandLine;
using System.CommandLine.Help;
using Tq.Cli.Commands;

var root = new RootCommand("tq: run local GGUF models with a TurboQuant-compressed KV cache, and measure them.");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(ChatCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(PullCommand.Create());
root.Subcommands.Add(ListCommand.Create());
root.Subcommands.Add(BenchmarkCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(NiahCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(PerplexityCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(TemplateCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());

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
