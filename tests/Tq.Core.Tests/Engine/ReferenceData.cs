using System.Text.Json;
using Tq.Testing;

namespace Tq.Core.Tests.Engine;

/// <summary>Reads llama.cpp's reference outputs (greedy continuations, perplexity, tokenizations).</summary>
internal static class ReferenceData
{
    public static readonly string[] GreedyModels =
        ["stories260K", "tq-stories-5m-f32", "tq-stories-5m-f16", "tq-stories-5m-q8_0", "tq-stories-5m-q4_k_m"];

    public static GreedyCase[] Greedy(string model)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Reference(model, "greedy.json")));
        return [.. doc.RootElement.GetProperty("results").EnumerateArray().Select(r => new GreedyCase(
            r.GetProperty("prompt").GetString()!,
            [.. r.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32())],
            [.. r.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32())],
            [.. r.GetProperty("top5_logprobs").EnumerateArray().Select(p => p.GetProperty("top").EnumerateArray()
                .Select(t => (t.GetProperty("id").GetInt32(), t.GetProperty("logprob").GetDouble())).ToArray())]))];
    }

    public static int[] Tokens(string model, string corpusFile)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Reference(model, $"tokens-{corpusFile}.json")));
        JsonElement root = doc.RootElement;
        JsonElement ids = root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("ids");
        return [.. ids.EnumerateArray().Select(e => e.GetInt32())];
    }

    internal sealed record GreedyCase(string Prompt, int[] PromptTokens, int[] Tokens, (int Id, double LogProb)[][] Top5);
}
