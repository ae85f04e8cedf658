namespace Tq.Cli.Tests.Commands;

public sealed class ListCommandTests
{
    [Fact]
    public void List_EmptyCacheDir_SaysThereAreNoModels()
    {
        string dir = Directory.CreateTempSubdirectory("tq-cli-cache-").FullName;
        try
        {
            CliResult result = TqProcess.Run("list", "--cache-dir", dir);

            CliAssert.Succeeded(result);
            Assert.Equal($"No models in {dir}. Download one with `tq pull hf:owner/repo/file.gguf`.\n", result.StdOut);
            Assert.Empty(result.StdErr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
