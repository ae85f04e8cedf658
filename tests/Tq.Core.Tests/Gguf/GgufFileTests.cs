using Tq.Core.Gguf;
using Tq.Core.Tensors;
using Tq.Testing;

namespace Tq.Core.Tests.Gguf;

public sealed class GgufFileTests
{
    private static GgufBuilder Minimal() => new GgufBuilder()
        .AddString("general.architecture", "llama")
        .AddUInt32("llama.embedding_length", 64)
        .AddUInt32("llama.block_count", 1)
        .AddUInt32("llama.attention.head_count", 4);

    [Theory]
    [InlineData(2u)]
    [InlineData(3u)]
    public void FromBytes_EveryValueType_RoundTrips(uint version)
    {
        byte[] image = new GgufBuilder { Version = version }
            .Add("u8", GgufValueType.UInt8, (byte)200)
            .Add("i8", GgufValueType.Int8, (sbyte)-5)
            .Add("u16", GgufValueType.UInt16, (ushort)60000)
            .Add("i16", GgufValueType.Int16, (short)-30000)
            .Add("u32", GgufValueType.UInt32, 4000000000u)
            .Add("i32", GgufValueType.Int32, -2000000000)
            .Add("f32", GgufValueType.Float32, 1.5f)
            .Add("u64", GgufValueType.UInt64, ulong.MaxValue)
            .Add("i64", GgufValueType.Int64, long.MinValue)
            .Add("f64", GgufValueType.Float64, -2.25)
            .Add("b", GgufValueType.Bool, true)
            .Add("s", GgufValueType.String, "héllo ▁world")
            .Add("strings", GgufValueType.Array, new List<object> { "a", "", "ü" }, GgufValueType.String)
            .Add("floats", GgufValueType.Array, new List<object> { 1f, -2f }, GgufValueType.Float32)
            .Add("ints", GgufValueType.Array, new List<object> { 1, 2, 3 }, GgufValueType.Int32)
            .Build();

        using GgufFile file = GgufFile.FromBytes(image);

        Assert.Equal((int)version, file.Version);
        Assert.Equal(200, file.Metadata["u8"].AsInt32());
        Assert.Equal(-5, file.Metadata["i8"].AsInt32());
        Assert.Equal(60000, file.Metadata["u16"].AsInt32());
        Assert.Equal(-30000, file.Metadata["i16"].AsInt32());
        Assert.Equal(4000000000L, file.Metadata["u32"].AsInt64());
        Assert.Equal(-2000000000, file.Metadata["i32"].AsInt32());
        Assert.Equal(1.5, file.Metadata["f32"].AsDouble());
        Assert.Equal(ulong.MaxValue, (ulong)file.Metadata["u64"].Value);
        Assert.Throws<InvalidCastException>(() => file.Metadata["u64"].AsInt64());
        Assert.Equal(long.MinValue, file.Metadata["i64"].AsInt64());
        Assert.Equal(-2.25, file.Metadata["f64"].AsDouble());
        Assert.True(file.Metadata["b"].AsBoolean());
        Assert.Equal("héllo ▁world", file.Metadata.GetString("s"));
        Assert.Equal(["a", "", "ü"], file.Metadata["strings"].AsStringArray());
        Assert.Equal([1f, -2f], file.Metadata["floats"].AsSingleArray());
        Assert.Equal([1, 2, 3], file.Metadata["ints"].AsInt32Array());
        Assert.Equal(["u8", "i8", "u16", "i16", "u32", "i32", "f32", "u64", "i64", "f64", "b", "s", "strings", "floats", "ints"], file.Metadata.Keys);
    }

    [Fact]
    public void FromBytes_Tensors_DataReadInPlaceAtAlignedOffsets()
    {
        byte[] payload = Enumerable.Range(0, 34 * 2).Select(i => (byte)(i * 3)).ToArray();
        byte[] image = Minimal()
            .AddTensor("a", GgmlType.F32, [3])
            .AddTensor("b", GgmlType.Q8_0, [32, 2], payload)
            .Build();

        using GgufFile file = GgufFile.FromBytes(image);

        Assert.Equal(2, file.Tensors.Count);
        GgufTensorInfo b = file.GetTensor("b");
        Assert.Equal(GgmlType.Q8_0, b.Type);
        Assert.Equal([32L, 2L], b.Dimensions);
        Assert.Equal(64, b.ElementCount);
        Assert.Equal(2, b.Rows);
        Assert.Equal(0, b.Offset % 32);
        Assert.Equal(payload, file.GetTensorData(b).ToArray());
        Assert.Equal(0, file.DataOffset % 32);
    }

    [Fact]
    public void FromBytes_CustomAlignment_Honoured()
    {
        byte[] image = Minimal().AddUInt32("general.alignment", 64).AddTensor("t", GgmlType.F32, [5]).AddTensor("u", GgmlType.F16, [7]).Build();
        image = RewriteAlignment(image, 64);

        using GgufFile file = GgufFile.FromBytes(image);

        Assert.Equal(64, file.Alignment);
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % 64));
    }

    private static byte[] RewriteAlignment(byte[] unused, int alignment)
    {
        var builder = Minimal();
        builder.Alignment = alignment;
        return builder.AddUInt32("general.alignment", (uint)alignment).AddTensor("t", GgmlType.F32, [5]).AddTensor("u", GgmlType.F16, [7]).Build();
    }

    public static TheoryData<string, byte[]> Corruptions()
    {
        byte[] good = Minimal().AddTensor("t", GgmlType.F32, [8]).Build();
        var data = new TheoryData<string, byte[]>();

        byte[] badMagic = (byte[])good.Clone();
        badMagic[0] = (byte)'X';
        data.Add("magic", badMagic);

        byte[] badVersion = (byte[])good.Clone();
        badVersion[4] = 1;
        data.Add("version", badVersion);

        data.Add("truncated", good[..(good.Length - 5)]);
        data.Add("truncated", good[..40]);

        byte[] hugeKv = (byte[])good.Clone();
        BitConverter.TryWriteBytes(hugeKv.AsSpan(16), ulong.MaxValue);
        data.Add("metadata_kv_count", hugeKv);

        byte[] hugeTensors = (byte[])good.Clone();
        BitConverter.TryWriteBytes(hugeTensors.AsSpan(8), 1UL << 40);
        data.Add("tensor_count", hugeTensors);

        data.Add("Duplicate metadata key", Minimal().AddString("general.architecture", "again").Build());
        data.Add("Duplicate tensor name", Minimal().AddTensor("t", GgmlType.F32, [4]).AddTensor("t", GgmlType.F32, [4]).Build());
        data.Add("unknown value type", Minimal().Add("x", (GgufValueType)77, (byte)0).Build());
        data.Add("alignment", Minimal().AddUInt32("general.alignment", 48).Build());
        data.Add("not a multiple", Minimal().AddTensor("q", GgmlType.F32, [8]).Build().Let(b => PatchTensorType(b, GgmlType.Q8_0)));
        data.Add("unknown ggml type", Minimal().AddTensor("q", GgmlType.F32, [8]).Build().Let(b => PatchTensorType(b, (GgmlType)4)));
        return data;
    }

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void FromBytes_CorruptImage_ThrowsFormatExceptionNamingTheProblem(string expected, byte[] image)
    {
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.FromBytes(image));
        Assert.Contains(expected, ex.Message + " " + ex.Field, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void FromBytes_HugeStringLength_ThrowsWithoutAllocating()
    {
        byte[] image = Minimal().AddString("k", "abc").Build();
        int at = IndexOf(image, "abc"u8) - 8;
        BitConverter.TryWriteBytes(image.AsSpan(at), (ulong)int.MaxValue * 4);

        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.FromBytes(image));
        Assert.Contains("past the end", ex.Message);
        Assert.True(ex.Offset > 0);
    }

    [Fact]
    public void FromBytes_TensorDataOutsideFile_Throws()
    {
        byte[] image = Minimal().AddTensor("t", GgmlType.F32, [64]).Build();
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.FromBytes(image.AsSpan(0, image.Length - 4)));
        Assert.Contains("outside the file", ex.Message);
    }

    [Fact]
    public void Open_MissingFile_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => GgufFile.Open(Path.Combine(Path.GetTempPath(), "no-such-model.gguf")));
    }

    [Fact]
    public void Open_EmptyFile_ThrowsFormatException()
    {
        string path = Path.GetTempFileName();
        try
        {
            Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(100)]
    [InlineData(5000)]
    [InlineData(1_000_000)]
    public void Open_TruncatedRealModelOnDisk_ThrowsFormatException(int keepBytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"tq-truncated-{Guid.NewGuid():N}.gguf");
        byte[] bytes = File.ReadAllBytes(TestPaths.Model("stories260K.gguf"));
        File.WriteAllBytes(path, bytes[..keepBytes]);
        try
        {
            var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
            Assert.Contains("truncated", ex.Message);
            Assert.Contains(Path.GetFileName(path), ex.Message);
            Assert.True(ex.Offset >= 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GetTensorData_AfterDispose_ThrowsObjectDisposed()
    {
        GgufFile file = GgufFile.FromBytes(Minimal().AddTensor("t", GgmlType.F32, [4]).Build());
        GgufTensorInfo t = file.GetTensor("t");
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.GetTensorData(t).Length);
    }

    [Fact]
    public void Metadata_MissingOrWrongType_NamesTheKey()
    {
        using GgufFile file = GgufFile.FromBytes(Minimal().Build());
        Assert.Contains("llama.nope", Assert.Throws<KeyNotFoundException>(() => file.Metadata.GetString("llama.nope")).Message);
        Assert.Contains("general.architecture", Assert.Throws<InvalidCastException>(() => file.Metadata.GetInt32("general.architecture")).Message);
        Assert.Contains("'zz'", Assert.Throws<KeyNotFoundException>(() => file.GetTensor("zz")).Message);
    }

    [Theory]
    [InlineData("stories260K.gguf", 64, 5, 8, 4, 172, 512, 2048, "F32")]
    [InlineData("tq-stories-5m-f32.gguf", 256, 6, 4, 2, 768, 512, 1024, "F32")]
    [InlineData("tq-stories-5m-f16.gguf", 256, 6, 4, 2, 768, 512, 1024, "F16")]
    [InlineData("tq-stories-5m-q8_0.gguf", 256, 6, 4, 2, 768, 512, 1024, "Q8_0")]
    [InlineData("tq-stories-5m-q4_k_m.gguf", 256, 6, 4, 2, 768, 512, 1024, "Q4_K")]
    [InlineData("tq-chat-5m-f16.gguf", 256, 6, 4, 2, 768, 518, 1024, "F16")]
    [InlineData("llama-2-tiny-random.gguf", 8, 1, 2, 2, 32, 32000, 4096, "F16")]
    public void Open_RealModel_MetadataMatchesModelCard(string model, int embedding, int layers, int heads, int kvHeads, int ffn, int vocab, int context, string mainType)
    {
        using GgufFile file = GgufFile.Open(TestPaths.Model(model));
        GgufModelInfo info = GgufModelInfo.FromFile(file);

        Assert.Equal("llama", info.Architecture);
        Assert.Equal(embedding, info.EmbeddingLength);
        Assert.Equal(layers, info.BlockCount);
        Assert.Equal(heads, info.HeadCount);
        Assert.Equal(kvHeads, info.HeadCountKv);
        Assert.Equal(ffn, info.FeedForwardLength);
        Assert.Equal(vocab, info.VocabularySize);
        Assert.Equal(context, info.ContextLength);
        Assert.Equal("llama", info.TokenizerModel);
        Assert.Equal(mainType, file.GetTensor("blk.0.attn_q.weight").Type.ToString());
        Assert.Equal(file.Tensors.Sum(t => t.ElementCount), info.ParameterCount);
        Assert.All(file.Tensors, t => Assert.True(file.DataOffset + t.Offset + t.ByteSize <= file.FileSize));
    }

    [Fact]
    public void FromFile_PerLayerKvHeadArray_ReportsEveryLayer()
    {
        byte[] image = Minimal()
            .Add("llama.attention.head_count_kv", GgufValueType.Array, new List<object> { 2 }, GgufValueType.Int32)
            .Build();
        using GgufFile file = GgufFile.FromBytes(image);

        GgufModelInfo info = GgufModelInfo.FromFile(file);

        Assert.Equal([2], info.HeadCountKvPerLayer);
        Assert.Equal(2, info.HeadCountKv);
    }

    [Fact]
    public void FromFile_PerLayerArrayOfWrongLength_Throws()
    {
        byte[] image = Minimal()
            .Add("llama.attention.head_count_kv", GgufValueType.Array, new List<object> { 2, 2, 2 }, GgufValueType.Int32)
            .Build();
        using GgufFile file = GgufFile.FromBytes(image);

        Assert.Contains("head_count_kv", Assert.Throws<InvalidDataException>(() => GgufModelInfo.FromFile(file)).Message);
    }

    [Fact]
    public void Open_ChatModel_HasChatMLTemplate()
    {
        using GgufFile file = GgufFile.Open(TestPaths.Model("tq-chat-5m-f16.gguf"));
        GgufModelInfo info = GgufModelInfo.FromFile(file);
        Assert.Contains("<|im_start|>", info.ChatTemplate);
        Assert.Equal(518, file.Metadata["tokenizer.ggml.tokens"].Count);
    }

    [Fact]
    public void Open_F16AndF32Models_SameTensorsAndShapes()
    {
        using GgufFile f16 = GgufFile.Open(TestPaths.Model("tq-stories-5m-f16.gguf"));
        using GgufFile f32 = GgufFile.Open(TestPaths.Model("tq-stories-5m-f32.gguf"));
        Assert.Equal(f32.Tensors.Select(t => $"{t.Name} {string.Join(",", t.Dimensions)}").Order(), f16.Tensors.Select(t => $"{t.Name} {string.Join(",", t.Dimensions)}").Order());

        ReadOnlySpan<byte> norm16 = f16.GetTensorData(f16.GetTensor("output_norm.weight"));
        ReadOnlySpan<byte> norm32 = f32.GetTensorData(f32.GetTensor("output_norm.weight"));
        Assert.True(norm16.SequenceEqual(norm32), "F32 norms are stored unconverted in both files");
    }

    private static byte[] PatchTensorType(byte[] image, GgmlType type)
    {
        int at = IndexOf(image, "q"u8.ToArray().Prepend((byte)0).ToArray()) + 2; // after the tensor name "q"
        at += 4 + 8; // n_dims, ne0
        BitConverter.TryWriteBytes(image.AsSpan(at), (uint)type);
        return image;
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
