using System.Buffers.Binary;
using System.Text;
using Tq.Core.Tensors;

namespace Tq.Core.Gguf;

/// <summary>
/// Reads the GGUF header, metadata and tensor infos from memory with a bounds check on every read, so that a
/// corrupt or hostile file ends in a <see cref="GgufFormatException"/> and never in an access violation, an
/// out-of-memory from a huge declared length, or a hang.
/// </summary>
internal unsafe ref struct GgufParser
{
    internal const uint Magic = 0x46554747; // "GGUF" little-endian
    internal const int DefaultAlignment = 32;
    private const int MaxDimensions = 4;
    private const int MaxArrayNesting = 4;

    private readonly byte* _base;
    private readonly long _length;
    private long _position;

    public GgufParser(byte* data, long length)
    {
        _base = data;
        _length = length;
        _position = 0;
    }

    public static GgufContents Parse(byte* data, long length)
    {
        var parser = new GgufParser(data, length);
        return parser.ParseAll();
    }

    private GgufContents ParseAll()
    {
        if (_length < 4)
        {
            throw new GgufFormatException($"The file is {_length} bytes long: too short to be a GGUF file.", 0, "magic");
        }

        uint magic = ReadUInt32("magic");
        if (magic != Magic)
        {
            throw new GgufFormatException($"Wrong magic 0x{magic:X8}: not a GGUF file (expected 'GGUF').", 0, "magic");
        }

        uint version = ReadUInt32("version");
        if (version is not (2 or 3))
        {
            throw new GgufFormatException($"GGUF version {version} is not supported (supported: 2, 3).", 4, "version");
        }

        long tensorCountOffset = _position;
        ulong tensorCount = ReadUInt64("tensor_count");
        long kvCountOffset = _position;
        ulong kvCount = ReadUInt64("metadata_kv_count");

        // Each key/value takes at least 13 bytes and each tensor info at least 24: a count that cannot fit is rejected
        // before anything is allocated from it.
        if (kvCount > (ulong)Remaining / 13)
        {
            throw new GgufFormatException($"Metadata count {kvCount} cannot fit in the {Remaining} bytes left: the file is truncated or corrupt.", kvCountOffset, "metadata_kv_count");
        }

        if (tensorCount > (ulong)Remaining / 24)
        {
            throw new GgufFormatException($"Tensor count {tensorCount} cannot fit in the {Remaining} bytes left: the file is truncated or corrupt.", tensorCountOffset, "tensor_count");
        }

        var values = new Dictionary<string, GgufValue>((int)kvCount, StringComparer.Ordinal);
        var order = new List<string>((int)kvCount);
        for (ulong i = 0; i < kvCount; i++)
        {
            long keyOffset = _position;
            string key = ReadString("metadata key");
            var type = (GgufValueType)ReadUInt32($"type of '{key}'");
            GgufValue value = ReadValue(type, key, 0);
            if (!values.TryAdd(key, value))
            {
                throw new GgufFormatException($"Duplicate metadata key '{key}'.", keyOffset, key);
            }

            order.Add(key);
        }

        int alignment = DefaultAlignment;
        if (values.TryGetValue("general.alignment", out GgufValue? alignValue))
        {
            long a = alignValue.Value is uint or int or ulong or long or ushort or short or byte or sbyte ? alignValue.AsInt64() : -1;
            if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
            {
                throw new GgufFormatException($"general.alignment {alignValue} is not a power of two between 1 and 1 MiB.", -1, "general.alignment");
            }

            alignment = (int)a;
        }

        var infos = new List<(string Name, GgmlType Type, long[] Dims, ulong Offset, long InfoOffset)>((int)tensorCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            long infoOffset = _position;
            string name = ReadString("tensor name");
            if (!names.Add(name))
            {
                throw new GgufFormatException($"Duplicate tensor name '{name}'.", infoOffset, "tensor name");
            }

            long dimsOffset = _position;
            uint nDims = ReadUInt32($"n_dims of '{name}'");
            if (nDims is 0 or > MaxDimensions)
            {
                throw new GgufFormatException($"Tensor '{name}' has {nDims} dimensions (1 to {MaxDimensions} allowed).", dimsOffset, "n_dims");
            }

            var dims = new long[nDims];
            for (int d = 0; d < nDims; d++)
            {
                long dimOffset = _position;
                ulong ne = ReadUInt64($"ne[{d}] of '{name}'");
                if (ne == 0 || ne > long.MaxValue / 2)
                {
                    throw new GgufFormatException($"Tensor '{name}' has dimension {d} of size {ne}.", dimOffset, $"ne[{d}]");
                }

                dims[d] = (long)ne;
            }

            long typeOffset = _position;
            var type = (GgmlType)ReadUInt32($"type of '{name}'");
            if (!GgmlTypeInfo.IsKnown(type))
            {
                throw new GgufFormatException($"Tensor '{name}' has unknown ggml type id {(uint)type}.", typeOffset, "type");
            }

            ulong offset = ReadUInt64($"offset of '{name}'");
            infos.Add((name, type, dims, offset, infoOffset));
        }

        // A vocabulary-only file (no tensors) may end right after the tensor infos without the alignment padding
        // (llama.cpp's own ggml-vocab-*.gguf files do); it has no data section to align.
        long dataOffset = infos.Count == 0 ? Math.Min(AlignUp(_position, alignment), _length) : AlignUp(_position, alignment);
        if (dataOffset > _length)
        {
            throw new GgufFormatException($"The data section would start at {dataOffset}, past the end of the {_length}-byte file.", _position, "data");
        }

        long dataSize = _length - dataOffset;
        var tensors = new List<GgufTensorInfo>(infos.Count);
        foreach ((string name, GgmlType type, long[] dims, ulong offset, long infoOffset) in infos)
        {
            long byteSize = TensorByteSize(name, type, dims, infoOffset);
            if (offset % (ulong)alignment != 0)
            {
                throw new GgufFormatException($"Tensor '{name}' data offset {offset} is not aligned to {alignment} bytes.", infoOffset, "offset");
            }

            if (offset > (ulong)dataSize || (ulong)byteSize > (ulong)dataSize - offset)
            {
                throw new GgufFormatException($"Tensor '{name}' data ({byteSize} bytes at data offset {offset}) lies outside the file (data section is {dataSize} bytes): the file is truncated or corrupt.", infoOffset, "offset");
            }

            tensors.Add(new GgufTensorInfo(name, type, dims, (long)offset, byteSize));
        }

        return new GgufContents((int)version, new GgufMetadata(values, order), tensors, alignment, dataOffset);
    }

    private static long TensorByteSize(string name, GgmlType type, long[] dims, long infoOffset)
    {
        int blockSize = GgmlTypeInfo.BlockSize(type);
        if (dims[0] % blockSize != 0)
        {
            throw new GgufFormatException($"Tensor '{name}' row length {dims[0]} is not a multiple of the {type} block size {blockSize}.", infoOffset, "ne[0]");
        }

        try
        {
            long size = checked(dims[0] / blockSize * GgmlTypeInfo.TypeSize(type));
            for (int d = 1; d < dims.Length; d++)
            {
                size = checked(size * dims[d]);
            }

            return size;
        }
        catch (OverflowException)
        {
            throw new GgufFormatException($"Tensor '{name}' shape [{string.Join(", ", dims)}] overflows its byte size.", infoOffset, "ne");
        }
    }

    private static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private readonly long Remaining => _length - _position;

    private GgufValue ReadValue(GgufValueType type, string key, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return new GgufValue(type, ReadSpan(1, key)[0]);
            case GgufValueType.Int8: return new GgufValue(type, (sbyte)ReadSpan(1, key)[0]);
            case GgufValueType.UInt16: return new GgufValue(type, BinaryPrimitives.ReadUInt16LittleEndian(ReadSpan(2, key)));
            case GgufValueType.Int16: return new GgufValue(type, BinaryPrimitives.ReadInt16LittleEndian(ReadSpan(2, key)));
            case GgufValueType.UInt32: return new GgufValue(type, ReadUInt32(key));
            case GgufValueType.Int32: return new GgufValue(type, BinaryPrimitives.ReadInt32LittleEndian(ReadSpan(4, key)));
            case GgufValueType.Float32: return new GgufValue(type, BinaryPrimitives.ReadSingleLittleEndian(ReadSpan(4, key)));
            case GgufValueType.UInt64: return new GgufValue(type, ReadUInt64(key));
            case GgufValueType.Int64: return new GgufValue(type, BinaryPrimitives.ReadInt64LittleEndian(ReadSpan(8, key)));
            case GgufValueType.Float64: return new GgufValue(type, BinaryPrimitives.ReadDoubleLittleEndian(ReadSpan(8, key)));
            case GgufValueType.Bool: return new GgufValue(type, ReadBool(key));
            case GgufValueType.String: return new GgufValue(type, ReadString(key));
            case GgufValueType.Array: return ReadArray(key, depth);
            default:
                throw new GgufFormatException($"Metadata '{key}' has unknown value type {(uint)type}.", _position - 4, key);
        }
    }

    private GgufValue ReadArray(string key, int depth)
    {
        long start = _position;
        if (depth >= MaxArrayNesting)
        {
            throw new GgufFormatException($"Metadata '{key}' nests arrays more than {MaxArrayNesting} deep.", start, key);
        }

        var elementType = (GgufValueType)ReadUInt32(key);
        ulong count = ReadUInt64(key);
        int minSize = elementType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => throw new GgufFormatException($"Metadata '{key}' is an array of unknown value type {(uint)elementType}.", start, key),
        };
        if (count > (ulong)(Remaining / minSize) || count > int.MaxValue)
        {
            throw new GgufFormatException($"Metadata '{key}' declares {count} elements, more than the {Remaining} bytes left can hold.", start + 4, key);
        }

        int n = (int)count;
        object array;
        switch (elementType)
        {
            case GgufValueType.UInt8: array = ReadSpan(n, key).ToArray(); break;
            case GgufValueType.Int8: array = ReadPrimitiveArray<sbyte>(n, key); break;
            case GgufValueType.UInt16: array = ReadPrimitiveArray<ushort>(n, key); break;
            case GgufValueType.Int16: array = ReadPrimitiveArray<short>(n, key); break;
            case GgufValueType.UInt32: array = ReadPrimitiveArray<uint>(n, key); break;
            case GgufValueType.Int32: array = ReadPrimitiveArray<int>(n, key); break;
            case GgufValueType.Float32: array = ReadPrimitiveArray<float>(n, key); break;
            case GgufValueType.UInt64: array = ReadPrimitiveArray<ulong>(n, key); break;
            case GgufValueType.Int64: array = ReadPrimitiveArray<long>(n, key); break;
            case GgufValueType.Float64: array = ReadPrimitiveArray<double>(n, key); break;
            case GgufValueType.Bool:
                {
                    var bools = new bool[n];
                    for (int i = 0; i < n; i++)
                    {
                        bools[i] = ReadBool(key);
                    }

                    array = bools;
                    break;
                }

            case GgufValueType.String:
                {
                    var strings = new string[n];
                    for (int i = 0; i < n; i++)
                    {
                        strings[i] = ReadString(key);
                    }

                    array = strings;
                    break;
                }

            default:
                {
                    var nested = new GgufValue[n];
                    for (int i = 0; i < n; i++)
                    {
                        nested[i] = ReadArray(key, depth + 1);
                    }

                    array = nested;
                    break;
                }
        }

        return new GgufValue(GgufValueType.Array, array, elementType);
    }

    private T[] ReadPrimitiveArray<T>(int count, string key)
        where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = ReadSpan((long)count * sizeof(T), key);
        var result = new T[count];
        bytes.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(result.AsSpan()));
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("GGUF reading requires a little-endian machine.");
        }

        return result;
    }

    private bool ReadBool(string key)
    {
        byte b = ReadSpan(1, key)[0];
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw new GgufFormatException($"Metadata '{key}' has boolean byte {b} (0 or 1 expected).", _position - 1, key),
        };
    }

    private string ReadString(string field)
    {
        long start = _position;
        ulong length = ReadUInt64(field);
        if (length > (ulong)Remaining)
        {
            throw new GgufFormatException($"String length {length} runs past the end of the file ({Remaining} bytes left).", start, field);
        }

        if (length > int.MaxValue)
        {
            throw new GgufFormatException($"String length {length} is larger than supported.", start, field);
        }

        return Encoding.UTF8.GetString(ReadSpan((long)length, field));
    }

    private uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4, field));

    private ulong ReadUInt64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(ReadSpan(8, field));

    private ReadOnlySpan<byte> ReadSpan(long count, string field)
    {
        if (count < 0 || count > Remaining)
        {
            throw new GgufFormatException($"Unexpected end of file reading {count} bytes ({Remaining} left): the file is truncated.", _position, field);
        }

        if (count > int.MaxValue)
        {
            throw new GgufFormatException($"A {count}-byte field is larger than supported.", _position, field);
        }

        var span = new ReadOnlySpan<byte>(_base + _position, (int)count);
        _position += count;
        return span;
    }
}
