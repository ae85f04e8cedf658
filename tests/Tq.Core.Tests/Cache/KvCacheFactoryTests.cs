using Tq.Core.Cache;
using Tq.Core.Models;

namespace Tq.Core.Tests.Cache;

/// <summary>Models whose value head size differs from the key head size: every cache kind codes values at their own length.</summary>
public sealed class KvCacheFactoryTests
{
    private const int KeyLength = 64, ValueLength = 32, Layers = 2, Heads = 2, KvHeads = 1;

    public static TheoryData<string> Kinds => new() { "q8_0", "tq4", "tq4-no-window" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Create_ValueLengthBelowKeyLength_AttendingOneTokenReturnsItsValue(string kind)
    {
        var layout = new KvCacheLayout(Layers, Heads, KvHeads, KeyLength, ValueLength, 16, new RotaryEmbedding(RopeStyle.Normal, KeyLength, KeyLength, 10000, 1));
        float[] keys = Enumerable.Range(0, KvHeads * KeyLength).Select(i => MathF.Sin(i * 0.37f)).ToArray();
        float[] values = Enumerable.Range(0, KvHeads * ValueLength).Select(i => MathF.Cos(i * 0.21f)).ToArray();
        float[] queries = Enumerable.Range(0, Heads * KeyLength).Select(i => MathF.Sin(i * 0.11f)).ToArray();
        float[] output = new float[Heads * ValueLength];
        using IKvCache cache = KvCacheFactory.Create(layout, Options(kind));

        for (int layer = 0; layer < Layers; layer++)
        {
            cache.Store(layer, 0, 1, keys, keys, values);
            cache.Attend(layer, 0, 1, queries, output, null);

            // One token in the cache: attention weight 1, so every head's output is that token's value row (as coded).
            for (int h = 0; h < Heads; h++)
            {
                float[] head = output[(h * ValueLength)..((h + 1) * ValueLength)];
                double cosine = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(head, values);
                Assert.True(cosine > 0.98, $"{kind} layer {layer} head {h}: cosine {cosine:F4}");
                Assert.All(head, (x, i) => Assert.Equal(values[i], x, kind == "q8_0" ? 0.02f : 0.3f));
            }
        }

        cache.Commit(1);
    }

    [Fact]
    public void Footprint_Q8_ValueRowsSizedByTheValueLength()
    {
        var layout = new KvCacheLayout(Layers, Heads, KvHeads, KeyLength, ValueLength, 16, new RotaryEmbedding(RopeStyle.Normal, KeyLength, KeyLength, 10000, 1));

        KvCacheFootprint footprint = KvCacheFactory.Footprint(layout, new KvCacheOptions { Kind = KvCacheKind.Q8_0 });

        // Q8_0: 34 bytes per 32 values; keys 2 blocks, values 1 block, per layer and KV head.
        Assert.Equal(Layers * KvHeads * (2 * 34 + 34), footprint.BytesPerToken);
    }

    private static KvCacheOptions Options(string kind) => kind switch
    {
        "q8_0" => new KvCacheOptions { Kind = KvCacheKind.Q8_0 },
        "tq4" => KvCacheOptions.TurboQuant(4, 4),
        _ => new KvCacheOptions { Kind = KvCacheKind.TurboQuant, BitsK = 4, BitsV = 4, SinkTokens = 0, RecentWindow = 0, BoundaryLayers = 0 },
    };
}
