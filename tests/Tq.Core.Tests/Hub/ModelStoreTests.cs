using Tq.Core.Hub;
using Tq.Testing;

namespace Tq.Core.Tests.Hub;

public sealed class ModelStoreTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "tq-store-" + Guid.NewGuid().ToString("N"));
    private readonly ModelStore _store;

    public ModelStoreTests()
    {
        _store = new ModelStore(_cache);
        Put("owner/repo/model-q4.gguf");
        Put("other/repo/model-q8.gguf");
        Put("a/x/same.gguf");
        Put("b/y/same.gguf");
        Put("owner/repo/pending.gguf" + ModelStore.PartialSuffix);
    }

    public void Dispose() => Directory.Delete(_cache, recursive: true);

    [Theory]
    [InlineData("hf:owner/repo/model-q4.gguf", "owner/repo/model-q4.gguf")]
    [InlineData("owner/repo/model-q4.gguf", "owner/repo/model-q4.gguf")]
    [InlineData("model-q4.gguf", "owner/repo/model-q4.gguf")]
    [InlineData("https://huggingface.co/other/repo/resolve/main/model-q8.gguf", "other/repo/model-q8.gguf")]
    [InlineData("a/x/same.gguf", "a/x/same.gguf")]
    public void Resolve_CachedNames_GiveTheCachedFile(string name, string expected)
    {
        Assert.Equal(Path.Combine([_cache, .. expected.Split('/')]), _store.Resolve(name));
    }

    [Fact]
    public void Resolve_ExistingFilePath_IsReturnedAsIs()
    {
        string model = TestPaths.Model("stories260K.gguf");

        Assert.Equal(model, _store.Resolve(model));
    }

    [Theory]
    [InlineData("nothing.gguf")]
    [InlineData("hf:owner/repo/nothing.gguf")]
    [InlineData("owner/repo/pending.gguf")]
    [InlineData("/no/such/dir/model.gguf")]
    public void Resolve_Missing_ThrowsFileNotFoundListingWhereItLooked(string name)
    {
        var ex = Assert.Throws<FileNotFoundException>(() => _store.Resolve(name));

        Assert.Contains(name.StartsWith("hf:", StringComparison.Ordinal) ? "owner" : name.TrimStart('/').Split('/')[0], ex.Message, StringComparison.Ordinal);
        Assert.Contains("Looked at:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tq pull", ex.Message, StringComparison.Ordinal);
        if (!Path.IsPathRooted(name))
        {
            Assert.Contains(_cache, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Resolve_AmbiguousFileName_ThrowsNamingTheCandidates()
    {
        var ex = Assert.Throws<ArgumentException>(() => _store.Resolve("same.gguf"));

        Assert.Contains("a/x/same.gguf", ex.Message, StringComparison.Ordinal);
        Assert.Contains("b/y/same.gguf", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void List_CompleteModels_SortedWithoutPartials()
    {
        IReadOnlyList<CachedModel> models = _store.List();

        Assert.Equal(["a/x/same.gguf", "b/y/same.gguf", "other/repo/model-q8.gguf", "owner/repo/model-q4.gguf"], models.Select(m => m.Name));
        Assert.All(models, m => Assert.Equal(4, m.Size));
    }

    [Fact]
    public void List_NoCacheFolder_IsEmpty()
    {
        Assert.Empty(new ModelStore(Path.Combine(_cache, "absent")).List());
    }

    [Theory]
    [InlineData("hf:owner/repo/model.gguf", "https://huggingface.co/owner/repo/resolve/main/model.gguf", "owner/repo/model.gguf")]
    [InlineData("hf:owner/repo/sub/dir/model.gguf", "https://huggingface.co/owner/repo/resolve/main/sub/dir/model.gguf", "owner/repo/sub/dir/model.gguf")]
    [InlineData("https://huggingface.co/owner/repo/resolve/v2/model.gguf?download=true", "https://huggingface.co/owner/repo/resolve/v2/model.gguf?download=true", "owner/repo/model.gguf")]
    [InlineData("http://example.com/files/model.gguf", "http://example.com/files/model.gguf", "example.com/model.gguf")]
    public void Parse_References_MapToUrlAndCachePath(string reference, string url, string cachePath)
    {
        var parsed = ModelReference.Parse(reference, new Uri("https://huggingface.co/"));

        Assert.Equal(url, parsed.Uri.ToString());
        Assert.Equal(cachePath, parsed.CachePath);
        Assert.Equal("model.gguf", parsed.FileName);
    }

    [Fact]
    public void Parse_CustomHubEndpoint_IsUsedForHfReferences()
    {
        var parsed = ModelReference.Parse("hf:o/r/m.gguf", ModelStore.ParseHubEndpoint("http://127.0.0.1:8080/mirror"));

        Assert.Equal("http://127.0.0.1:8080/mirror/o/r/resolve/main/m.gguf", parsed.Uri.ToString());
    }

    [Theory]
    [InlineData("hf:owner/model.gguf")]
    [InlineData("hf:owner/../model.gguf")]
    [InlineData("hf:owner//x/model.gguf")]
    [InlineData("ftp://example.com/model.gguf")]
    [InlineData("model.gguf")]
    [InlineData("http://example.com/")]
    public void Parse_Invalid_ThrowsArgumentException(string reference)
    {
        Assert.Throws<ArgumentException>(() => ModelReference.Parse(reference, new Uri("https://huggingface.co/")));
    }

    private void Put(string relative)
    {
        string path = Path.Combine([_cache, .. relative.Split('/')]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [1, 2, 3, 4]);
    }
}
