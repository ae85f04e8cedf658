using System.Globalization;
using System.Text.RegularExpressions;
using Tq.Testing;
using Xunit.Abstractions;

namespace Tq.Cli.Tests.Commands;

/// <summary>
/// Peak memory while generating, on a model large enough that the .NET runtime's own ~35 MiB does not dominate: a
/// ~500 MB random-weight llama written by the test (the real models here are 1-20 MB).
/// </summary>
public sealed partial class RunMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void Run_LargeModel_PeakWorkingSetWithinModelPlusKvPlus25Percent()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tq-synthetic-{Guid.NewGuid():N}.gguf");
        try
        {
            SyntheticLlamaModel.Write(path, embedding: 1536, layers: 8, heads: 12, feedForward: 4096, vocabulary: 8000);
            long fileBytes = new FileInfo(path).Length;

            CliResult result = TqProcess.Run("run", "-m", path, "-p", "Once upon a time", "-n", "8", "--temp", "0", "-c", "512");

            Assert.Equal(0, result.ExitCode);
            Match m = PeakLine().Match(result.StdErr);
            Assert.True(m.Success, result.StdErr);
            double kvMiB = double.Parse(m.Groups["kv"].Value, CultureInfo.InvariantCulture);
            double peakMiB = double.Parse(m.Groups["peak"].Value, CultureInfo.InvariantCulture);
            double modelMiB = fileBytes / 1048576.0;
            output.WriteLine($"model {modelMiB:F1} MiB, KV {kvMiB} MiB, peak working set {peakMiB} MiB (bound {(modelMiB + kvMiB) * 1.25:F0} MiB)");
            Assert.True(modelMiB > 400, $"the synthetic model is {modelMiB:F0} MiB");
            Assert.True(peakMiB <= (modelMiB + kvMiB) * 1.25, $"peak working set {peakMiB} MiB > 1.25 x (model {modelMiB:F0} MiB + KV {kvMiB} MiB)");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [GeneratedRegex(@"KV cache (?<kv>[0-9.]+) MiB; peak working set [0-9]+/(?<peak>[0-9]+) MiB")]
    private static partial Regex PeakLine();
}
