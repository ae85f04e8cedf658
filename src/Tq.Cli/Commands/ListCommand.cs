using Tq.Core.Gguf;
using Tq.Core.Hub;

namespace Tq.Cli.Commands;

/// <summary><c>tq list</c>: the models in the cache with size, architecture, quant types and path.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var cacheDir = new Option<DirectoryInfo?>("--cache-dir") { Description = "The model cache folder (default: $TQ_MODELS or ~/.cache/tq/models)." };
        var command = CliOptions.Command("list", "List the models in the local cache.", cacheDir);
        command.SetAction(parse => CliErrors.Run(() => Print(Console.Out, new ModelStore(parse.GetValue(cacheDir)?.FullName))));
        return command;
    }

    internal static void Print(TextWriter output, ModelStore store)
    {
        IReadOnlyList<CachedModel> models = store.List();
        if (models.Count == 0)
        {
            output.WriteLine($"No models in {store.CacheDirectory}. Download one with `tq pull hf:owner/repo/file.gguf`.");
            return;
        }

        output.WriteLine($"{"NAME",-48} {"SIZE",10} {"ARCH",-10} {"QUANT",-28} PATH");
        foreach (CachedModel model in models)
        {
            string arch;
            string quant;
            try
            {
                using GgufFile file = GgufFile.Open(model.Path);
                arch = file.Architecture ?? "(vocab)";
                quant = string.Join(", ", file.Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ByteSize)).Take(3).Select(g => $"{g.Key} x{g.Count()}"));
            }
            catch (Exception ex) when (ex is GgufFormatException or IOException or UnauthorizedAccessException)
            {
                arch = "invalid";
                quant = ex.Message.Length > 28 ? ex.Message[..25] + "..." : ex.Message;
            }

            output.WriteLine($"{model.Name,-48} {InfoCommand.FormatBytes(model.Size),10} {arch,-10} {quant,-28} {model.Path}");
        }

        foreach (string partial in Directory.EnumerateFiles(store.CacheDirectory, "*" + ModelStore.PartialSuffix, SearchOption.AllDirectories))
        {
            output.WriteLine($"(partial download, {InfoCommand.FormatBytes(new FileInfo(partial).Length)}: {partial}; `tq pull` resumes it)");
        }
    }
}
