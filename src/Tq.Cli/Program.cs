using System.CommandLine;
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

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
