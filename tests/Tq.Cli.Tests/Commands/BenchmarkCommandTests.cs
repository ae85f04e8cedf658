using System.Text.Json;

namespace Tq.Cli.Tests.Commands;

public sealed class BenchmarkCommandTests
{
    // The MSE quantizers must land between the Shannon lower bound 4^-b and the TurboQuant paper's upper bound
    // (sqrt(3)·pi/2)·4^-b, on Gaussian and heavy-tailed data. prod-qjl spends one bit on the QJL residual, so its MSE
    // is not held to the MSE bound.
    [Fact]
    public void Benchmark_SmallJson_MseNmseBetweenShannonAndTurboQuantBounds()
    {
        CliResult result = TqProcess.Run("benchmark", "--vectors", "2000", "--bits", "2,3,4", "--json");

        CliAssert.Succeeded(result);
        using JsonDocument json = JsonDocument.Parse(result.StdOut);
        JsonElement[] rows = [.. json.RootElement.EnumerateArray()];
        JsonElement[] mse = [.. rows.Where(r => r.GetProperty("variant").GetString()!.StartsWith("mse-", StringComparison.Ordinal))];
        Assert.Equal(2 * 3 * 2, mse.Length); // data sets x bit widths x {normcorr, raw-norm}
        Assert.Equal(["gaussian", "heavy-tailed"], rows.Select(r => r.GetProperty("data").GetString()).Distinct());
        foreach (JsonElement row in mse)
        {
            double bits = row.GetProperty("bits").GetDouble();
            double nmse = row.GetProperty("nmse").GetDouble();
            Assert.Equal(2000, row.GetProperty("vectors").GetInt32());
            Assert.Equal(Math.Pow(4, -bits), row.GetProperty("shannonBound").GetDouble(), 1e-12);
            Assert.Equal(Math.Sqrt(3) * Math.PI / 2 * Math.Pow(4, -bits), row.GetProperty("turboQuantBound").GetDouble(), 1e-12);
            Assert.InRange(nmse, row.GetProperty("shannonBound").GetDouble(), row.GetProperty("turboQuantBound").GetDouble());
        }

        // More bits, less error.
        foreach (IGrouping<(string?, string?), JsonElement> series in mse.GroupBy(r => (r.GetProperty("data").GetString(), r.GetProperty("variant").GetString())))
        {
            double[] errors = [.. series.OrderBy(r => r.GetProperty("bits").GetDouble()).Select(r => r.GetProperty("nmse").GetDouble())];
            Assert.Equal(errors.OrderDescending(), errors);
        }
    }

    [Theory]
    [InlineData("9", "Bits must be")]
    [InlineData("0", "Bits must be")]
    [InlineData("abc", "'abc'")]
    public void Benchmark_InvalidBits_ExitsTwoWithOneLine(string bits, string message)
    {
        CliResult result = TqProcess.Run("benchmark", "--bits", bits, "--vectors", "10");

        CliAssert.FailedWithOneLine(result, message, exitCode: 2, prefix: "tq benchmark: ");
        Assert.Empty(result.StdOut);
    }
}
