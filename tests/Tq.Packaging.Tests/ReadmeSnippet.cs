using System.Text.RegularExpressions;

namespace Tq.Packaging.Tests;

/// <summary>
/// Reads a C# snippet out of the repository's README.md, between <c>&lt;!-- snippet: name --&gt;</c> and
/// <c>&lt;!-- /snippet --&gt;</c>, without its code fence: the exact text a reader copies.
/// </summary>
internal static partial class ReadmeSnippet
{
    public static string Read(string readmePath, string name)
    {
        string readme = File.ReadAllText(readmePath);
        Match match = Snippet().Matches(readme).FirstOrDefault(m => m.Groups["name"].Value == name)
            ?? throw new InvalidOperationException($"README.md has no snippet '{name}' (<!-- snippet: {name} --> ... <!-- /snippet -->).");
        return match.Groups["code"].Value;
    }

    [GeneratedRegex(@"<!-- snippet: (?<name>[\w-]+) -->\s*```csharp\n(?<code>.*?)```\s*<!-- /snippet -->", RegexOptions.Singleline)]
    private static partial Regex Snippet();
}
