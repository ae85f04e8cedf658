using Tq.Testing;
using Tq.Core.Gguf;
using Tq.Core.Models;
using Tq.Core.Tensors;
using Xunit;

namespace Tq.Core.Tests.Models;

/// <summary>
/// qwen2 and phi3 have no real test model here, so their plumbing is checked against llama on synthetic weights
/// that make the three compute the same function: llama's GGUF converter permutes Q/K rows so that normal RoPE on
/// them equals NeoX RoPE on the original rows (qwen2, phi3), and phi3 only fuses Q/K/V and gate/up.
/// </summary>
public sealed class ArchitectureEquivalenceTests
{
    private const int Dim = 32, Heads = 4, KvHeads = 2, HeadDim = 8, Ff = 48, Vocab = 40, Layers = 2;

    private static float[] Random(Random r, int n, float scale = 0.3f) => [.. Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2) - 1) * scale)];

    private static byte[] Bytes(float[] values) => [.. values.SelectMany(BitConverter.GetBytes)];

    // llama.cpp convert_hf_to_gguf permute(): HF row (head, half, i) → GGUF row (head, i, half).
    private static float[] Permute(float[] rows, int heads)
    {
        float[] result = new float[rows.Length];
        int rowsPerHead = rows.Length / Dim / heads;
        for (int h = 0; h < heads; h++)
        {
            for (int half = 0; half < 2; half++)
            {
                for (int i = 0; i < rowsPerHead / 2; i++)
                {
                    int from = (h * rowsPerHead) + (half * (rowsPerHead / 2)) + i;
                    int to = (h * rowsPerHead) + (2 * i) + half;
                    Array.Copy(rows, from * Dim, result, to * Dim, Dim);
                }
            }
        }

        return result;
    }

    private static float[] Logits(string arch, int seed)
    {
        var r = new Random(seed);
        var b = new GgufBuilder();
        b.AddString("general.architecture", arch);
        b.AddUInt32($"{arch}.embedding_length", Dim);
        b.AddUInt32($"{arch}.block_count", Layers);
        b.AddUInt32($"{arch}.feed_forward_length", Ff);
        b.AddUInt32($"{arch}.attention.head_count", Heads);
        b.AddUInt32($"{arch}.attention.head_count_kv", KvHeads);
        b.AddUInt32($"{arch}.context_length", 64);
        b.AddUInt32($"{arch}.vocab_size", Vocab);
        b.Add($"{arch}.attention.layer_norm_rms_epsilon", GgufValueType.Float32, 1e-5f);
        b.AddUInt32("tokenizer.ggml.bos_token_id", 1);
        void Add(string name, float[] values, params long[] dims) => b.AddTensor(name, GgmlType.F32, dims, Bytes(values));

        Add("token_embd.weight", Random(r, Vocab * Dim, 1f), Dim, Vocab);
        Add("output_norm.weight", Random(r, Dim, 1f), Dim);
        Add("output.weight", Random(r, Vocab * Dim), Dim, Vocab);
        for (int l = 0; l < Layers; l++)
        {
            float[] q = Random(r, Heads * HeadDim * Dim), k = Random(r, KvHeads * HeadDim * Dim), v = Random(r, KvHeads * HeadDim * Dim);
            float[] o = Random(r, Dim * Heads * HeadDim), gate = Random(r, Ff * Dim), up = Random(r, Ff * Dim), down = Random(r, Dim * Ff);
            float[] attnNorm = Random(r, Dim, 1f), ffnNorm = Random(r, Dim, 1f);
            Add($"blk.{l}.attn_norm.weight", attnNorm, Dim);
            Add($"blk.{l}.ffn_norm.weight", ffnNorm, Dim);
            Add($"blk.{l}.attn_output.weight", o, Heads * HeadDim, Dim);
            Add($"blk.{l}.ffn_down.weight", down, Ff, Dim);
            switch (arch)
            {
                case "llama":
                    Add($"blk.{l}.attn_q.weight", Permute(q, Heads), Dim, Heads * HeadDim);
                    Add($"blk.{l}.attn_k.weight", Permute(k, KvHeads), Dim, KvHeads * HeadDim);
                    Add($"blk.{l}.attn_v.weight", v, Dim, KvHeads * HeadDim);
                    Add($"blk.{l}.ffn_gate.weight", gate, Dim, Ff);
                    Add($"blk.{l}.ffn_up.weight", up, Dim, Ff);
                    break;
                case "qwen2":
                    Add($"blk.{l}.attn_q.weight", q, Dim, Heads * HeadDim);
                    Add($"blk.{l}.attn_k.weight", k, Dim, KvHeads * HeadDim);
                    Add($"blk.{l}.attn_v.weight", v, Dim, KvHeads * HeadDim);
                    Add($"blk.{l}.attn_q.bias", new float[Heads * HeadDim], Heads * HeadDim);
                    Add($"blk.{l}.attn_k.bias", new float[KvHeads * HeadDim], KvHeads * HeadDim);
                    Add($"blk.{l}.attn_v.bias", new float[KvHeads * HeadDim], KvHeads * HeadDim);
                    Add($"blk.{l}.ffn_gate.weight", gate, Dim, Ff);
                    Add($"blk.{l}.ffn_up.weight", up, Dim, Ff);
                    break;
                default:
                    Add($"blk.{l}.attn_qkv.weight", [.. q, .. k, .. v], Dim, (Heads + (2 * KvHeads)) * HeadDim);
                    Add($"blk.{l}.ffn_up.weight", [.. gate, .. up], Dim, 2 * Ff);
                    break;
            }
        }

        using Model model = Model.Load(GgufFile.FromBytes(b.Build()), new ModelOptions { Threads = 1 });
        using var session = model.CreateSession();
        session.Evaluate([1, 5, 9, 13, 17, 21, 25]);
        return session.Logits.ToArray();
    }

    [Theory]
    [InlineData("qwen2")]
    [InlineData("phi3")]
    public void Forward_EquivalentWeights_MatchesLlama(string arch)
    {
        float[] llama = Logits("llama", 5), other = Logits(arch, 5);
        for (int i = 0; i < Vocab; i++)
        {
            Assert.True(Math.Abs(llama[i] - other[i]) <= 1e-3f * (1 + Math.Abs(llama[i])), $"logit {i}: {arch} {other[i]} vs llama {llama[i]}");
        }
    }

    [Fact]
    public void Load_MisShapedTensor_NamesIt()
    {
        var b = new GgufBuilder();
        b.AddString("general.architecture", "llama");
        b.AddUInt32("llama.embedding_length", Dim);
        b.AddUInt32("llama.block_count", 1);
        b.AddUInt32("llama.attention.head_count", Heads);
        b.AddUInt32("llama.vocab_size", Vocab);
        b.AddTensor("token_embd.weight", GgmlType.F32, [Dim, Vocab + 1]);
        var ex = Assert.Throws<InvalidDataException>(() => Model.Load(GgufFile.FromBytes(b.Build())));
        Assert.Contains("token_embd.weight", ex.Message, StringComparison.Ordinal);
    }
}
