using System.Diagnostics;
using Tq.Core.Gguf;
using Tq.Core.Tensors;
using Tq.Testing;

namespace Tq.Core.Tests.Gguf;

/// <summary>
/// Feeds mutated and truncated GGUF images to the reader: each must either open (and its tensor data be readable)
/// or throw <see cref="GgufFormatException"/>; nothing else may escape, and no image may take long to reject.
/// </summary>
public sealed class GgufFuzzTests
{
    private static readonly TimeSpan s_perFileLimit = TimeSpan.FromSeconds(2);

    public static TheoryData<string, int> Seeds() => new()
    {
        { "synthetic", 8000 },
        { "stories260K.gguf", 1200 },
        { "llama-2-tiny-random.gguf", 800 },
    };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void FromBytes_MutatedImages_OpenOrThrowFormatException(string seedName, int iterations)
    {
        byte[] seed = seedName == "synthetic" ? SyntheticSeed() : File.ReadAllBytes(TestPaths.Model(seedName));
        int headerLength;
        using (GgufFile parsed = GgufFile.FromBytes(seed))
        {
            headerLength = (int)Math.Min(parsed.DataOffset + 64, seed.Length);
        }

        var random = new Random(12345 + seedName.Length);
        int opened = 0, rejected = 0;
        byte[] buffer = new byte[seed.Length];
        for (int i = 0; i < iterations; i++)
        {
            seed.CopyTo(buffer, 0);
            (int length, string mutation) = Mutate(buffer, headerLength, random);
            var watch = Stopwatch.StartNew();
            try
            {
                using GgufFile file = GgufFile.FromBytes(buffer.AsSpan(0, length));
                foreach (GgufTensorInfo tensor in file.Tensors)
                {
                    if (tensor.ByteSize is > 0 and <= int.MaxValue)
                    {
                        ReadOnlySpan<byte> data = file.GetTensorData(tensor);
                        _ = data[0] ^ data[^1];
                    }
                }

                opened++;
            }
            catch (GgufFormatException)
            {
                rejected++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"{seedName} #{i} ({mutation}): {ex.GetType().Name} escaped: {ex.Message}");
            }

            Assert.True(watch.Elapsed < s_perFileLimit, $"{seedName} #{i} ({mutation}) took {watch.Elapsed.TotalMilliseconds:F0} ms");
        }

        Assert.Equal(iterations, opened + rejected);
        Assert.True(rejected > iterations / 10, $"only {rejected} of {iterations} mutations were rejected: the mutations are too weak");
    }

    private static (int Length, string Mutation) Mutate(byte[] image, int headerLength, Random random)
    {
        switch (random.Next(5))
        {
            case 0:
                {
                    int flips = random.Next(1, 9);
                    for (int f = 0; f < flips; f++)
                    {
                        int at = random.Next(headerLength);
                        image[at] ^= (byte)(1 << random.Next(8));
                    }

                    return (image.Length, $"{flips} bit flips");
                }

            case 1:
                {
                    int cut = random.Next(image.Length);
                    return (cut, $"truncated to {cut}");
                }

            case 2:
                {
                    int at = random.Next(Math.Max(1, headerLength - 8));
                    ulong[] huge = [ulong.MaxValue, 1UL << 63, 1UL << 32, (ulong)int.MaxValue + 1, (ulong)random.NextInt64()];
                    ulong value = huge[random.Next(huge.Length)];
                    BitConverter.TryWriteBytes(image.AsSpan(at), value);
                    return (image.Length, $"u64 {value} at {at}");
                }

            case 3:
                {
                    int at = random.Next(headerLength);
                    int run = Math.Min(random.Next(1, 32), image.Length - at);
                    random.NextBytes(image.AsSpan(at, run));
                    return (image.Length, $"{run} random bytes at {at}");
                }

            default:
                {
                    int at = random.Next(Math.Max(1, headerLength - 4));
                    uint[] smalls = [0, 1, 4, 9, 13, 31, 40, uint.MaxValue];
                    BitConverter.TryWriteBytes(image.AsSpan(at), smalls[random.Next(smalls.Length)]);
                    int cut = random.Next(2) == 0 ? image.Length : random.Next(at, image.Length);
                    return (cut, $"u32 at {at}, cut {cut}");
                }
        }
    }

    private static byte[] SyntheticSeed() => new GgufBuilder()
        .AddString("general.architecture", "llama")
        .AddUInt32("llama.embedding_length", 64)
        .AddUInt32("llama.block_count", 2)
        .Add("llama.rope.freq_base", GgufValueType.Float32, 10000f)
        .Add("tokenizer.ggml.tokens", GgufValueType.Array, new List<object> { "<s>", "</s>", "▁a", "b", "ü" }, GgufValueType.String)
        .Add("tokenizer.ggml.scores", GgufValueType.Array, new List<object> { 0f, 0f, -1f, -2f, -3f }, GgufValueType.Float32)
        .Add("tokenizer.ggml.token_type", GgufValueType.Array, new List<object> { 3, 3, 1, 1, 1 }, GgufValueType.Int32)
        .Add("flag", GgufValueType.Bool, true)
        .Add("big", GgufValueType.UInt64, 1UL << 40)
        .AddTensor("token_embd.weight", GgmlType.F16, [64, 5])
        .AddTensor("blk.0.attn_q.weight", GgmlType.Q8_0, [64, 4])
        .AddTensor("blk.0.ffn_down.weight", GgmlType.Q4_K, [256, 2])
        .AddTensor("output_norm.weight", GgmlType.F32, [64])
        .Build();
}
