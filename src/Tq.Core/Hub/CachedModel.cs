namespace Tq.Core.Hub;

/// <summary>A complete model file in the cache folder.</summary>
public sealed class CachedModel
{
    internal CachedModel(string name, string path, long size)
    {
        Name = name;
        Path = path;
        Size = size;
    }

    /// <summary>The path inside the cache with <c>/</c> separators (<c>owner/repo/file.gguf</c>): a name <see cref="ModelStore.Resolve(string)"/> accepts.</summary>
    public string Name { get; }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    /// <summary>The file size in bytes.</summary>
    public long Size { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
