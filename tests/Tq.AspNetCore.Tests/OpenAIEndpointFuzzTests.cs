using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Tq.AspNetCore.Tests;

/// <summary>
/// Posts 2,000 mutated and random bodies (seeded, so a failure reproduces) to <c>/v1/chat/completions</c>, four at a
/// time: no 5xx, every refusal an OpenAI error object, no failure logged, and the server still answers afterwards.
/// </summary>
public sealed class OpenAIEndpointFuzzTests : IClassFixture<EndpointServer>
{
    private const int Bodies = 2000;
    private const int Seed = 20261207;

    private static readonly string[] s_templates =
    [
        """{"model": "tq-chat-5m-q8_0", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 2, "temperature": 0}""",
        """{"messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}], "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 2, "stop": ["\n", "."]}""",
        """{"messages": [{"role": "user", "content": "Weather in Oslo?"}], "max_tokens": 3, "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}], "tool_choice": "auto", "parallel_tool_calls": false}""",
        """{"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "21"}], "max_tokens": 2, "tools": [{"type": "function", "function": {"name": "get_weather"}}], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}""",
        """{"messages": [{"role": "developer", "content": "JSON only."}, {"role": "user", "content": "A person"}], "max_completion_tokens": 3, "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}, "seed": 7, "top_p": 0.9, "top_k": 20, "min_p": 0.1, "frequency_penalty": 0.5, "presence_penalty": -0.5}""",
        """{"messages": [{"role": "user", "content": "Hi", "name": "ann"}], "max_tokens": 1, "response_format": {"type": "json_object"}, "n": 1, "logprobs": false, "user": "u1", "store": false, "metadata": {}}""",
    ];

    private static readonly string[] s_keys =
    [
        "model", "messages", "role", "content", "stream", "stream_options", "include_usage", "temperature", "top_p", "max_tokens",
        "stop", "tools", "tool_choice", "function", "name", "arguments", "type", "response_format", "json_schema", "schema",
        "n", "seed", "logprobs", "tool_call_id", "tool_calls", "x", "",
    ];

    private readonly EndpointServer _server;
    private readonly ITestOutputHelper _output;

    public OpenAIEndpointFuzzTests(EndpointServer server, ITestOutputHelper output)
    {
        _server = server;
        _output = output;
    }

    [Fact]
    public async Task ChatCompletions_2000MutatedAndRandomBodies_NeverAnswer5xxAndTheServerStillAnswers()
    {
        var random = new Random(Seed);
        byte[][] bodies = Enumerable.Range(0, Bodies).Select(_ => Next(random)).ToArray();
        var statuses = new int[Bodies];
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, Bodies), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, cancellationToken) =>
        {
            using var content = new ByteArrayContent(bodies[i]);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using HttpResponseMessage response = await _server.Http.PostAsync("v1/chat/completions", content, cancellationToken);
            string text = await response.Content.ReadAsStringAsync(cancellationToken);
            statuses[i] = (int)response.StatusCode;
            if (Problem((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, text) is string problem)
            {
                failures.Add($"#{i} {problem}: {Encoding.UTF8.GetString(bodies[i])} -> {(int)response.StatusCode} {text[..Math.Min(300, text.Length)]}");
            }
        });

        _output.WriteLine($"{Bodies} bodies in {clock.Elapsed.TotalSeconds:F1} s: " + string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}")));
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.True(statuses.Count(s => s == 200) >= 100, $"too few bodies were valid to reach the engine: {statuses.Count(s => s == 200)}");
        Assert.True(statuses.Count(s => s == 400) >= 1000, $"too few bodies were refused: {statuses.Count(s => s == 400)}");
        Assert.DoesNotContain(_server.Logs.Entries, e => e.Level >= LogLevel.Warning || e.Exception is not null);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"the fuzz run took {clock.Elapsed}");

        using HttpResponseMessage after = await _server.Http.PostAsync("v1/chat/completions", new StringContent(s_templates[0], Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(0, _server.Engine.GetStatistics().BusySessions);
    }

    /// <summary>What is wrong with an answer, or null: 2xx with a completion or a stream, else a 4xx OpenAI error object.</summary>
    private static string? Problem(int status, string? mediaType, string text)
    {
        if (status >= 500)
        {
            return "5xx";
        }

        if (status == 200)
        {
            return mediaType == "text/event-stream"
                ? (text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal) ? null : "stream without [DONE]")
                : (JsonNode.Parse(text)?["choices"]?[0]?["finish_reason"] is not null ? null : "completion without finish_reason");
        }

        if (status is not (400 or 404))
        {
            return "unexpected status";
        }

        JsonObject? error = JsonNode.Parse(text)?["error"] as JsonObject;
        return error is not null && error.ContainsKey("message") && error.ContainsKey("type") && error.ContainsKey("param") && error.ContainsKey("code")
            ? null
            : "not an OpenAI error object";
    }

    private static byte[] Next(Random random)
    {
        switch (random.Next(10))
        {
            case 0:
                return Encoding.UTF8.GetBytes(RandomValue(random, 3).ToJsonString());
            case 1:
                // Text-level damage: a byte flipped, dropped or cut, often no longer JSON, sometimes not UTF-8.
                byte[] bytes = Encoding.UTF8.GetBytes(s_templates[random.Next(s_templates.Length)]);
                int at = random.Next(bytes.Length);
                return random.Next(3) switch
                {
                    0 => [.. bytes[..at], .. bytes[(at + 1)..]],
                    1 => [.. bytes[..at], (byte)random.Next(256), .. bytes[(at + 1)..]],
                    _ => bytes[..at],
                };
            default:
                JsonNode body = JsonNode.Parse(s_templates[random.Next(s_templates.Length)])!;
                int mutations = 1 + random.Next(3);
                for (int m = 0; m < mutations; m++)
                {
                    body = Mutate(body, random);
                }

                return Encoding.UTF8.GetBytes(body.ToJsonString());
        }
    }

    private static JsonNode Mutate(JsonNode root, Random random)
    {
        List<JsonNode> nodes = [];
        Collect(root, nodes);
        JsonNode target = nodes[random.Next(nodes.Count)];
        JsonNode? parent = target.Parent;
        switch (random.Next(4))
        {
            case 0 when parent is JsonObject o:
                o.Remove(target.GetPropertyName());
                break;
            case 1 when target is JsonObject o:
                o[s_keys[random.Next(s_keys.Length)]] = RandomValue(random, 2);
                break;
            case 2 when parent is JsonArray a:
                a.Add(RandomValue(random, 2));
                break;
            default:
                if (parent is JsonObject po)
                {
                    po[target.GetPropertyName()] = RandomValue(random, 2);
                }
                else if (parent is JsonArray pa)
                {
                    pa[target.GetElementIndex()] = RandomValue(random, 2);
                }
                else
                {
                    return RandomValue(random, 3);
                }

                break;
        }

        return root;
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        nodes.Add(node);
        switch (node)
        {
            case JsonObject o:
                foreach (KeyValuePair<string, JsonNode?> p in o)
                {
                    if (p.Value is not null)
                    {
                        Collect(p.Value, nodes);
                    }
                }

                break;
            case JsonArray a:
                foreach (JsonNode? item in a)
                {
                    if (item is not null)
                    {
                        Collect(item, nodes);
                    }
                }

                break;
        }
    }

    private static JsonNode RandomValue(Random random, int depth)
    {
        int pick = random.Next(depth > 0 ? 16 : 13);
        JsonNode? value = pick switch
        {
            0 => JsonValue.Create(true),
            1 => JsonValue.Create(false),
            2 => JsonValue.Create(random.Next(-3, 5)),
            3 => JsonValue.Create(random.NextDouble() * 4 - 1),
            4 => JsonValue.Create(long.MaxValue),
            5 => JsonValue.Create(""),
            6 => JsonValue.Create(new[] { "user", "assistant", "tool", "system", "wizard", "function", "text" }[random.Next(7)]),
            7 => JsonValue.Create(new[] { "required", "auto", "none", "json_schema", "json_object", "image_url", "get_weather" }[random.Next(7)]),
            8 => JsonValue.Create("\u0000\ud83d\ude00<tool_call>"),
            9 => JsonValue.Create(1e300),
            10 => new JsonArray(),
            11 => new JsonObject(),
            12 => JsonValue.Create(-0.0),
            13 => new JsonArray(RandomValue(random, depth - 1), null),
            14 => new JsonObject { [s_keys[random.Next(s_keys.Length)]] = RandomValue(random, depth - 1) },
            _ => new JsonObject { ["role"] = "user", ["content"] = RandomValue(random, depth - 1) },
        };
        return value!;
    }
}
