using System.IO.MemoryMappedFiles;

namespace Tq.Core.Gguf;

/// <summary>
/// An open GGUF model file. The file is memory-mapped and tensors are read in place: opening a model copies only
/// its metadata into managed memory, so a model larger than free RAM still opens. Thread-safe for reading.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly GCHandle _pinned;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;
    private byte* _base;

    private GgufFile(string? path, byte* data, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, GCHandle pinned)
    {
        _map = map;
        _view = view;
        _pinned = pinned;
        _base = data;
        Path = path;
        FileSize = length;
        try
        {
            GgufContents contents = GgufParser.Parse(data, length);
            Version = contents.Version;
            Metadata = contents.Metadata;
            Tensors = contents.Tensors;
            Alignment = contents.Alignment;
            DataOffset = contents.DataOffset;
            _tensorsByName = Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        }
        catch (GgufFormatException ex) when (path is not null)
        {
            Dispose();
            throw ex.InFile(path);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The path the file was opened from, or <see langword="null"/> for an in-memory file.</summary>
    public string? Path { get; }

    /// <summary>The file size in bytes.</summary>
    public long FileSize { get; }

    /// <summary>The GGUF format version (2 or 3).</summary>
    public int Version { get; }

    /// <summary>The metadata key/value pairs in file order.</summary>
    public GgufMetadata Metadata { get; }

    /// <summary>The tensors in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>The alignment of tensor data (<c>general.alignment</c>, 32 by default).</summary>
    public int Alignment { get; }

    /// <summary>The absolute file offset where tensor data starts.</summary>
    public long DataOffset { get; }

    /// <summary>The model architecture (<c>general.architecture</c>), or <see langword="null"/> for a vocabulary-only file without it.</summary>
    public string? Architecture => Metadata.GetStringOrDefault("general.architecture");

    /// <summary>Opens and validates a GGUF file, memory-mapping it read-only.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="GgufFormatException">The file is not a valid GGUF v2/v3 file.</exception>
    public static GgufFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"GGUF file '{path}' does not exist.", path);
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        long length = stream.Length;
        if (length < 24)
        {
            stream.Dispose();
            throw new GgufFormatException($"'{path}' is {length} bytes long: too short to be a GGUF file.", 0, "header");
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        byte* pointer = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
        }
        catch
        {
            if (pointer != null)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }

        return new GgufFile(System.IO.Path.GetFullPath(path), pointer, length, map, view, default);
    }

    /// <summary>
    /// Parses a GGUF image held in memory (for tests, tools and small synthetic files). The bytes are copied into
    /// a pinned buffer owned by the returned object.
    /// </summary>
    /// <exception cref="GgufFormatException">The bytes are not a valid GGUF v2/v3 file.</exception>
    public static GgufFile FromBytes(ReadOnlySpan<byte> bytes)
    {
        byte[] copy = GC.AllocateUninitializedArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(copy);
        GCHandle handle = GCHandle.Alloc(copy, GCHandleType.Pinned);
        return new GgufFile(null, (byte*)handle.AddrOfPinnedObject(), copy.Length, null, null, handle);
    }

    /// <summary>The tensor with the given name.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public GgufTensorInfo GetTensor(string name) =>
        _tensorsByName.TryGetValue(name, out GgufTensorInfo? t) ? t : throw new KeyNotFoundException($"Tensor '{name}' is not in the GGUF file{(Path is null ? string.Empty : $" '{Path}'")}.");

    /// <summary>Looks a tensor up by name.</summary>
    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GgufTensorInfo? tensor) =>
        _tensorsByName.TryGetValue(name, out tensor);

    /// <summary>The bytes of a tensor's data, read in place from the mapped file.</summary>
    /// <exception cref="NotSupportedException">The tensor is larger than a span can address (2 GiB).</exception>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.ByteSize > int.MaxValue)
        {
            throw new NotSupportedException($"Tensor '{tensor.Name}' is {tensor.ByteSize} bytes: too large for a span; use the row-wise engine views.");
        }

        return new ReadOnlySpan<byte>(GetTensorPointer(tensor), (int)tensor.ByteSize);
    }

    /// <summary>A pointer to a tensor's data, valid until this file is disposed.</summary>
    internal byte* GetTensorPointer(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (!_tensorsByName.TryGetValue(tensor.Name, out GgufTensorInfo? own) || !ReferenceEquals(own, tensor))
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' does not belong to this file.", nameof(tensor));
        }

        return _base + DataOffset + tensor.Offset;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_base == null)
        {
            return;
        }

        _base = null;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        _map?.Dispose();
        if (_pinned.IsAllocated)
        {
            _pinned.Free();
        }
    }
}
