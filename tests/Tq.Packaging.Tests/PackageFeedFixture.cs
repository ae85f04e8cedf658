using Tq.Testing;

namespace Tq.Packaging.Tests;

/// <summary>
/// Packs every project under <c>src/</c> once per test run into a folder feed, from a copy of the sources (so the
/// repository's own bin/obj are never touched), and prepares one fresh console app that references the packages.
/// </summary>
/// <remarks>
/// The version is unique per run (<c>0.1.0-pkgtest-&lt;UTC time&gt;-&lt;random&gt;</c>): no package of that version exists on
/// nuget.org, and the global NuGet cache cannot hold a stale copy of it. Those versions are removed from the global
/// cache again at the end. The app's other dependencies come from the machine's normal NuGet sources.
/// </remarks>
public sealed class PackageFeedFixture : IDisposable
{
    private static readonly TimeSpan s_packTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan s_cliTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The packages' id, one per packable project.</summary>
    public static readonly string[] PackageIds = ["Tq.Core", "Tq.Extensions.AI", "Tq.SemanticKernel", "Tq.AspNetCore", "Tq.Cli"];

    private readonly Lazy<string> _tq;

    public PackageFeedFixture()
    {
        _tq = new Lazy<string>(InstallTool);
        Root = Path.Combine(Path.GetTempPath(), "tq-packaging-" + Guid.NewGuid().ToString("N")[..10]);
        Version = $"0.1.0-pkgtest-{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        Feed = Path.Combine(Root, "feed");
        Directory.CreateDirectory(Feed);
        try
        {
            Pack();
            AppDirectory = CreateApp();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The scratch folder of this run.</summary>
    public string Root { get; }

    /// <summary>The package version of this run.</summary>
    public string Version { get; }

    /// <summary>The folder feed holding the packed packages.</summary>
    public string Feed { get; }

    /// <summary>
    /// The fresh console app (<c>Root/work/app</c>) that references Tq.Extensions.AI and Tq.SemanticKernel from the
    /// feed; <c>Root/work/shared</c> links to the shared data folder, so the README's <c>../shared/models/...</c> path
    /// resolves from the app's folder.
    /// </summary>
    public string AppDirectory { get; } = string.Empty;

    /// <summary>
    /// The <c>tq</c> command, installed on first use as a user would: <c>dotnet tool install --tool-path &lt;dir&gt;
    /// --add-source &lt;feed&gt; Tq.Cli</c>.
    /// </summary>
    public string Tq => _tq.Value;

    /// <summary>The path of the package with <paramref name="id"/> in the feed.</summary>
    public string PackagePath(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    public void Dispose()
    {
        TryDelete(Root);
        try
        {
            string globalPackages = GlobalPackagesFolder();
            foreach (string id in PackageIds)
            {
                string idFolder = Path.Combine(globalPackages, id.ToLowerInvariant());
                TryDelete(Path.Combine(idFolder, Version.ToLowerInvariant()));
                if (Directory.Exists(idFolder) && !Directory.EnumerateFileSystemEntries(idFolder).Any())
                {
                    TryDelete(idFolder);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // The cache location could not be read: nothing of this run's can be found to remove.
        }
    }

    private void Pack()
    {
        string sources = Path.Combine(Root, "sources");
        foreach (string file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig" })
        {
            string from = Path.Combine(TestPaths.RepoRoot, file);
            if (File.Exists(from))
            {
                Directory.CreateDirectory(sources);
                File.Copy(from, Path.Combine(sources, file));
            }
        }

        CopyTree(Path.Combine(TestPaths.RepoRoot, "src"), Path.Combine(sources, "src"));
        string[] projects = Directory.GetFiles(Path.Combine(sources, "src"), "*.csproj", SearchOption.AllDirectories);

        // The packages are built as CI builds them, against each project's public-API baseline (RS0016/RS0017 are errors).
        foreach (string project in projects)
        {
            foreach (string baseline in new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" })
            {
                if (!File.Exists(Path.Combine(Path.GetDirectoryName(project)!, baseline)))
                {
                    throw new InvalidOperationException($"{Path.GetFileName(project)} has no {baseline} in the copied sources.");
                }
            }
        }

        string solution = Path.Combine(sources, "packages.slnx");
        File.WriteAllText(solution, "<Solution>\n" + string.Concat(projects.Select(p =>
            $"  <Project Path=\"{Path.GetRelativePath(sources, p).Replace('\\', '/')}\" />\n")) + "</Solution>\n");
        ProcessRunner.Dotnet(sources, s_packTimeout, "pack", solution, "-c", "Release", "-o", Feed, $"-p:Version={Version}", "-p:ContinuousIntegrationBuild=true")
            .EnsureSuccess();
    }

    private string InstallTool()
    {
        string toolPath = Path.Combine(Root, "tools");
        ProcessRunner.Dotnet(Root, s_cliTimeout, "tool", "install", "--tool-path", toolPath, "--add-source", Feed, "Tq.Cli", "--version", Version)
            .EnsureSuccess();
        return Path.Combine(toolPath, OperatingSystem.IsWindows() ? "tq.exe" : "tq");
    }

    private string CreateApp()
    {
        string work = Path.Combine(Root, "work");
        Directory.CreateDirectory(work);
        Directory.CreateSymbolicLink(Path.Combine(work, "shared"), TestPaths.Shared);
        string app = Path.Combine(work, "app");
        ProcessRunner.Dotnet(work, s_cliTimeout, "new", "console", "--name", "FreshApp", "--output", app).EnsureSuccess();
        // The README's install step (`dotnet nuget add source`), for this folder only: the feed is added to the machine's
        // sources, which is where the packages' own dependencies come from. (`dotnet add package --source` would make
        // the feed the only source, and the dependencies would then resolve only if already in the global cache.)
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="tq-local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        ProcessRunner.Dotnet(app, s_cliTimeout, "add", "package", "Tq.SemanticKernel", "--version", Version, "--no-restore").EnsureSuccess();
        // One restore for both packages.
        ProcessRunner.Dotnet(app, s_cliTimeout, "add", "package", "Tq.Extensions.AI", "--version", Version).EnsureSuccess();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "FreshAppProbe.cs.txt"), Path.Combine(app, "FreshAppProbe.cs"));
        return app;
    }

    private static string GlobalPackagesFolder()
    {
        string listed = ProcessRunner.Dotnet(Path.GetTempPath(), s_cliTimeout, "nuget", "locals", "global-packages", "--list").EnsureSuccess().StdOut;
        const string prefix = "global-packages:";
        int at = listed.IndexOf(prefix, StringComparison.Ordinal);
        return at >= 0 ? listed[(at + prefix.Length)..].Trim() : throw new InvalidOperationException($"Unexpected output: {listed}");
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (string dir in Directory.GetDirectories(from))
        {
            string name = Path.GetFileName(dir);
            if (name is not ("bin" or "obj"))
            {
                CopyTree(dir, Path.Combine(to, name));
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a scratch folder left in /tmp does no harm.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The packaging tests share one feed and one fresh app.</summary>
[CollectionDefinition(Name)]
public sealed class PackageFeedGroup : ICollectionFixture<PackageFeedFixture>
{
    public const string Name = "package feed";
}
