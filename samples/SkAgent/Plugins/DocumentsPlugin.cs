using System.ComponentModel;
using Microsoft.SemanticKernel;

namespace SkAgent.Plugins;

/// <summary>Reads the text documents of one folder (and nothing outside it).</summary>
public sealed class DocumentsPlugin
{
    private readonly string _folder;

    /// <summary>Serves the <c>.txt</c> and <c>.md</c> files of <paramref name="folder"/>.</summary>
    public DocumentsPlugin(string folder)
    {
        _folder = Path.GetFullPath(folder);
        if (!Directory.Exists(_folder))
        {
            throw new DirectoryNotFoundException($"The documents folder '{_folder}' does not exist.");
        }
    }

    /// <summary>The document names, sorted.</summary>
    public IReadOnlyList<string> Names => Directory.EnumerateFiles(_folder)
        .Where(f => f.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
        .Select(Path.GetFileName)
        .OfType<string>()
        .Order(StringComparer.Ordinal)
        .ToList();

    /// <summary>The start of a document.</summary>
    [KernelFunction("read_document")]
    [Description("Read a document by name")]
    public string ReadDocument([Description("The document name")] string name, int maxChars = 1000)
    {
        string path = Resolve(name);
        string text = File.ReadAllText(path);
        return text.Length <= maxChars ? text : text[..Math.Max(0, maxChars)];
    }

    /// <summary>The full path of a document, refusing names that leave the folder.</summary>
    public string Resolve(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string path = Path.GetFullPath(Path.Combine(_folder, name));
        if (!path.StartsWith(_folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is outside the documents folder.", nameof(name));
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No document '{name}'. Documents: {string.Join(", ", Names.Take(20))}.", path);
        }

        return path;
    }
}
