using Tq.Core.Gguf;
using Tq.Core.Tensors;

namespace Tq.Testing;

/// <summary>
/// Writes a llama-architecture GGUF with random FP16 weights and a byte-fallback SentencePiece vocabulary: a model as
/// large as the test needs (hundreds of MB) where the real models here are a few MB. Its text is noise; it exists for
/// memory and plumbing measurements, never for quality.
/// </summary>
internal static class SyntheticLlamaModel
{
    public static void Write(string path, int embedding, int layers, int heads, int feedForward, int vocabulary, int seed = 7)
    {
        var random = new Random(seed);

        // One block of small random halves, reused for every weight: no NaN/Inf, activations stay bounded.
        var block = new byte[1 << 16];
        for (int i = 0; i < block.Length; i += 2)
        {
            BitConverter.TryWriteBytes(block.AsSpan(i), (Half)((random.NextSingle() - 0.5f) * 0.05f));
        }

        byte[] Weights(long count)
        {
            var data = new byte[count * 2];
            for (long offset = 0; offset < data.Length; offset += block.Length)
            {
                block.AsSpan(0, (int)Math.Min(block.Length, data.Length - offset)).CopyTo(data.AsSpan((int)offset));
            }

            return data;
        }

        byte[] Ones(int count)
        {
            var data = new byte[count * 4];
            for (int i = 0; i < count; i++)
            {
                BitConverter.TryWriteBytes(data.AsSpan(i * 4), 1f);
            }

            return data;
        }

        var tokens = new List<object> { "<unk>", "<s>", "</s>" };
        var types = new List<object> { 2, 3, 3 };
        for (int b = 0; b < 256; b++)
        {
            tokens.Add($"<0x{b:X2}>");
            types.Add(6);
        }

        while (tokens.Count < vocabulary)
        {
            tokens.Add($"▁w{tokens.Count}");
            types.Add(1);
        }

        var scores = tokens.Select((_, i) => (object)(-(float)i)).ToList();
        var builder = new GgufBuilder()
            .AddString("general.architecture", "llama")
            .AddString("general.name", "synthetic")
            .AddUInt32("llama.context_length", 2048)
            .AddUInt32("llama.embedding_length", (uint)embedding)
            .AddUInt32("llama.block_count", (uint)layers)
            .AddUInt32("llama.feed_forward_length", (uint)feedForward)
            .AddUInt32("llama.attention.head_count", (uint)heads)
            .AddUInt32("llama.attention.head_count_kv", (uint)heads)
            .AddUInt32("llama.rope.dimension_count", (uint)(embedding / heads))
            .Add("llama.attention.layer_norm_rms_epsilon", GgufValueType.Float32, 1e-5f)
            .AddString("tokenizer.ggml.model", "llama")
            .Add("tokenizer.ggml.tokens", GgufValueType.Array, tokens, GgufValueType.String)
            .Add("tokenizer.ggml.scores", GgufValueType.Array, scores, GgufValueType.Float32)
            .Add("tokenizer.ggml.token_type", GgufValueType.Array, types, GgufValueType.Int32)
            .AddUInt32("tokenizer.ggml.bos_token_id", 1)
            .AddUInt32("tokenizer.ggml.eos_token_id", 2)
            .AddTensor("token_embd.weight", GgmlType.F16, [embedding, vocabulary], Weights((long)embedding * vocabulary));
        for (int l = 0; l < layers; l++)
        {
            builder
                .AddTensor($"blk.{l}.attn_norm.weight", GgmlType.F32, [embedding], Ones(embedding))
                .AddTensor($"blk.{l}.attn_q.weight", GgmlType.F16, [embedding, embedding], Weights((long)embedding * embedding))
                .AddTensor($"blk.{l}.attn_k.weight", GgmlType.F16, [embedding, embedding], Weights((long)embedding * embedding))
                .AddTensor($"blk.{l}.attn_v.weight", GgmlType.F16, [embedding, embedding], Weights((long)embedding * embedding))
                .AddTensor($"blk.{l}.attn_output.weight", GgmlType.F16, [embedding, embedding], Weights((long)embedding * embedding))
                .AddTensor($"blk.{l}.ffn_norm.weight", GgmlType.F32, [embedding], Ones(embedding))
                .AddTensor($"blk.{l}.ffn_gate.weight", GgmlType.F16, [embedding, feedForward], Weights((long)embedding * feedForward))
                .AddTensor($"blk.{l}.ffn_up.weight", GgmlType.F16, [embedding, feedForward], Weights((long)embedding * feedForward))
                .AddTensor($"blk.{l}.ffn_down.weight", GgmlType.F16, [feedForward, embedding], Weights((long)feedForward * embedding));
        }

        builder
            .AddTensor("output_norm.weight", GgmlType.F32, [embedding], Ones(embedding))
            .AddTensor("output.weight", GgmlType.F16, [embedding, vocabulary], Weights((long)embedding * vocabulary))
            .WriteTo(path);
    }
}
