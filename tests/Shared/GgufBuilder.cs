using System.Text;
using Tq.Core.Gguf;
using Tq.Core.Tensors;

namespace Tq.Testing;

/// <summary>Writes synthetic GGUF images: small ones for parser tests, large random-weight models for memory tests.</summary>
internal sealed class GgufBuilder
{
    private readonly List<(string Key, GgufValueType Type, object Value, GgufValueType ElementType)> _kvs = [];
    private readonly List<(string Name, GgmlType Type, long[] Dims, byte[] Data)> _tensors = [];

    public uint Version { get; set; } = 3;

    public int Alignment { get; set; } = 32;

    public GgufBuilder Add(string key, GgufValueType type, object value, GgufValueType elementType = GgufValueType.UInt8)
    {
        _kvs.Add((key, type, value, elementType));
        return this;
    }

    public GgufBuilder AddString(string key, string value) => Add(key, GgufValueType.String, value);

    public GgufBuilder AddUInt32(string key, uint value) => Add(key, GgufValueType.UInt32, value);

    public GgufBuilder AddTensor(string name, GgmlType type, long[] dims, byte[]? data = null)
    {
        long bytes = GgmlTypeInfo.RowSize(type, dims[0]) * dims.Skip(1).Aggregate(1L, (a, b) => a * b);
        _tensors.Add((name, type, dims, data ?? Enumerable.Range(0, (int)bytes).Select(i => (byte)i).ToArray()));
        return this;
    }

    public byte[] Build()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    /// <summary>Writes the image to a file without holding a second copy in memory.</summary>
    public void WriteTo(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteTo(file);
    }

    private void WriteTo(Stream ms)
    {
        using var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufParserMagic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_kvs.Count);
        foreach ((string key, GgufValueType type, object value, GgufValueType elementType) in _kvs)
        {
            WriteString(w, key);
            w.Write((uint)type);
            WriteValue(w, type, value, elementType);
        }

        long offset = 0;
        var offsets = new List<long>();
        foreach ((string name, GgmlType type, long[] dims, byte[] data) in _tensors)
        {
            WriteString(w, name);
            w.Write((uint)dims.Length);
            foreach (long d in dims)
            {
                w.Write((ulong)d);
            }

            w.Write((uint)type);
            w.Write((ulong)offset);
            offsets.Add(offset);
            offset = Align(offset + data.Length);
        }

        w.Flush();
        long dataStart = Align(ms.Position);
        while (ms.Position < dataStart)
        {
            w.Write((byte)0);
        }

        for (int i = 0; i < _tensors.Count; i++)
        {
            while (ms.Position < dataStart + offsets[i])
            {
                w.Write((byte)0);
            }

            w.Write(_tensors[i].Data);
        }

        w.Flush();
    }

    private const uint GgufParserMagic = 0x46554747;

    private long Align(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value, GgufValueType elementType)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.Array:
                {
                    var items = (System.Collections.IList)value;
                    w.Write((uint)elementType);
                    w.Write((ulong)items.Count);
                    foreach (object? item in items)
                    {
                        WriteValue(w, elementType, item!, GgufValueType.UInt8);
                    }

                    break;
                }

            default:
                w.Write((byte)value); // an unknown type tag followed by one byte, for corruption tests
                break;
        }
    }
}
