using System.Text.Json;
using Tq.Testing;

namespace Tq.Cli.Tests;

/// <summary>One prompt of llama.cpp's <c>greedy.json</c>: the prompt, its ids (BOS added) and the greedy continuation's text.</summary>
internal sealed record GreedyReference(string Prompt, int[] PromptTokens, string Text)
{
    public static IReadOnlyList<GreedyReference> Load(string referenceModel)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(TestPaths.Reference(referenceModel, "greedy.json")));
        return [.. document.RootElement.GetProperty("results").EnumerateArray().Select(r => new GreedyReference(
            r.GetProperty("prompt").GetString()!,
            [.. r.GetProperty("prompt_tokens").EnumerateArray().Select(t => t.GetInt32())],
            r.GetProperty("text").GetString()!))];
    }
}
