using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Tq.Testing;

namespace Tq.Packaging.Tests;

/// <summary>
/// The packages as a new user meets them: the README's snippets, unchanged, in a fresh <c>dotnet new console</c> app
/// that takes the packages from the feed; and what each package holds.
/// </summary>
[Collection(PackageFeedGroup.Name)]
public sealed partial class FreshAppTests(PackageFeedFixture feed)
{
    private static readonly TimeSpan s_buildTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("extensions-ai")]
    [InlineData("semantic-kernel")]
    public void ReadmeSnippet_InFreshApp_StreamsAnswer(string snippet)
    {
        string code = ReadmeSnippet.Read(Path.Combine(TestPaths.RepoRoot, "README.md"), snippet);
        File.WriteAllText(Path.Combine(feed.AppDirectory, "Program.cs"), code);
        ProcessRunner.Dotnet(feed.AppDirectory, s_buildTimeout, "build", "-c", "Release", "--no-restore").EnsureSuccess();

        // The performance setting reaches the app through Tq.Core's buildTransitive props, with no project setting.
        using JsonDocument runtimeConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(feed.AppDirectory, "bin", "Release", "net10.0", "FreshApp.runtimeconfig.json")));
        Assert.False(runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties")
            .GetProperty("System.Runtime.TieredCompilation.QuickJitForLoops").GetBoolean());

        ProcessResult run = ProcessRunner.Dotnet(feed.AppDirectory, s_runTimeout, Path.Combine("bin", "Release", "net10.0", "FreshApp.dll")).EnsureSuccess();
        Assert.False(string.IsNullOrWhiteSpace(run.StdOut), $"The app wrote no answer.\nstderr:\n{run.StdErr}");
        Match probe = ProbeLine().Match(run.StdErr);
        Assert.True(probe.Success, $"The probe line is missing from stderr:\n{run.StdErr}");
        int writes = int.Parse(probe.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(writes >= 2, $"The answer came in {writes} write(s), not as a stream: '{run.StdOut}'");
    }

    [Theory]
    [InlineData("Tq.Core", "lib/net10.0/Tq.Core.xml")]
    [InlineData("Tq.Extensions.AI", "lib/net10.0/Tq.Extensions.AI.xml")]
    [InlineData("Tq.SemanticKernel", "lib/net10.0/Tq.SemanticKernel.xml")]
    [InlineData("Tq.AspNetCore", "lib/net10.0/Tq.AspNetCore.xml")]
    [InlineData("Tq.Cli", "tools/net10.0/any/tq.dll")]
    public void Package_HasReadmeAndContent(string id, string content)
    {
        using ZipArchive package = ZipFile.OpenRead(feed.PackagePath(id));
        Assert.NotNull(package.GetEntry(content));
        ZipArchiveEntry readme = package.GetEntry("README.md") ?? throw new Xunit.Sdk.XunitException($"{id} has no README.md.");
        using var reader = new StreamReader(readme.Open());
        Assert.StartsWith("# " + id, reader.ReadToEnd(), StringComparison.Ordinal);
        Assert.Equal("README.md", Metadata(package, "readme"));
    }

    [Fact]
    public void Core_CarriesPerformanceSettingTransitively()
    {
        using ZipArchive package = ZipFile.OpenRead(feed.PackagePath("Tq.Core"));
        ZipArchiveEntry props = package.GetEntry("buildTransitive/Tq.Core.props") ?? throw new Xunit.Sdk.XunitException("Tq.Core has no buildTransitive/Tq.Core.props.");
        using Stream stream = props.Open();
        XElement property = XDocument.Load(stream).Descendants().Single(e => e.Name.LocalName == "TieredCompilationQuickJitForLoops");
        Assert.Equal("false", property.Value);
        Assert.Equal("'$(TieredCompilationQuickJitForLoops)' == ''", property.Attribute("Condition")?.Value);
    }

    [Theory]
    [InlineData("Tq.Extensions.AI", "Tq.Core")]
    [InlineData("Tq.SemanticKernel", "Tq.Extensions.AI")]
    [InlineData("Tq.AspNetCore", "Tq.Extensions.AI")]
    public void Package_DependsOnExactSiblingVersion(string id, string sibling)
    {
        using ZipArchive package = ZipFile.OpenRead(feed.PackagePath(id));
        XElement dependency = Nuspec(package).Descendants().Single(e => e.Name.LocalName == "dependency" && (string?)e.Attribute("id") == sibling);
        Assert.Equal($"[{feed.Version}]", (string?)dependency.Attribute("version"));
    }

    private static XDocument Nuspec(ZipArchive package)
    {
        ZipArchiveEntry entry = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using Stream stream = entry.Open();
        return XDocument.Load(stream);
    }

    private static string? Metadata(ZipArchive package, string name) =>
        Nuspec(package).Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    [GeneratedRegex(@"\[probe\] writes=(\d+)")]
    private static partial Regex ProbeLine();
}
