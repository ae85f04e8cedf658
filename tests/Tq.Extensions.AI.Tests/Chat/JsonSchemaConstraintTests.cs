using System.Text.Json;
using Microsoft.Extensions.AI;
using Tq.Core.Sampling;

namespace Tq.Extensions.AI.Tests.Chat;

/// <summary>Schema-constrained output: the automaton on texts, and real generations that must parse and match the schema.</summary>
public sealed class JsonSchemaConstraintTests
{
    private const string Person = """
        {"type": "object", "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "height": {"type": "number"},
            "pet": {"enum": ["cat", "dog", null]},
            "happy": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "extra": {}
        }, "required": ["name", "age"]}
        """;

    [Theory]
    [InlineData("""{"name": "Lily", "age": 5, "height": 1.1, "pet": "cat", "happy": true, "tags": ["a", "b"], "extra": {"x": [1]}}""", true, true)]
    [InlineData("""{"name": "Li""", true, false)]
    [InlineData("""{"name": "Lily", "age": 5, "height": -2e3, "pet": null, "happy": false, "tags": [], "extra": 3}""", true, true)]
    [InlineData("""{"age": 5""", false, false)]                      // properties come in the declared order
    [InlineData("""{"name": 5""", false, false)]                     // name is a string
    [InlineData("""{"name": "L", "age": 5.5""", false, false)]       // age is an integer
    [InlineData("""{"name": "L", "age": 5, "height": 1, "pet": "bird""", false, false)]
    [InlineData("""{"name": "L", "age": 5, "height": 1, "pet": "dog", "happy": yes""", false, false)]
    [InlineData("""{"name": "L", "age": 5, "height": 1, "pet": "dog", "happy": true, "tags": [1""", false, false)]
    [InlineData("{\"name\":\"L\"", false, false)]                  // compact "key": value formatting only
    public void IsValidPrefix_PersonSchema_FollowsTheSchema(string text, bool valid, bool complete)
    {
        JsonConstraint.SchemaNode schema = JsonConstraint.SchemaNode.Compile(JsonDocument.Parse(Person).RootElement);

        Assert.Equal(valid, JsonConstraint.IsValidPrefix(schema, text, out bool isComplete));
        Assert.Equal(complete, isComplete);
    }

    [Theory]
    [InlineData("""{"type": "array", "items": {"type": "integer"}}""", "[1, 22, -3]")]
    [InlineData("""{"type": "string"}""", "\"hi\"")]
    [InlineData("""{"const": {"a": 1}}""", """{"a":1}""")]
    [InlineData("""{"anyOf": [{"type": "string"}, {"type": "integer"}]}""", "[true]")]
    public void IsValidPrefix_OtherRoots_AcceptTheirValues(string schemaJson, string text)
    {
        JsonConstraint.SchemaNode schema = JsonConstraint.SchemaNode.Compile(JsonDocument.Parse(schemaJson).RootElement);

        Assert.True(JsonConstraint.IsValidPrefix(schema, text, out bool complete));
        Assert.True(complete);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(2L)]
    [InlineData(3L)]
    public async Task GetResponseAsync_JsonSchema_OutputMatchesTheSchema(long seed)
    {
        const string schema = """{"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "pet": {"enum": ["cat", "dog"]}, "happy": {"type": "boolean"}}}""";
        using TurboQuantChatClient client = ChatModels.CreateClient();
        var options = new ChatOptions
        {
            ResponseFormat = ChatResponseFormat.ForJsonSchema(JsonDocument.Parse(schema).RootElement, "person"),
            Temperature = 0.8f,
            Seed = seed,
            MaxOutputTokens = 200,
        };

        ChatResponse response = await client.GetResponseAsync("Describe a girl and her pet.", options);

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        using JsonDocument document = JsonDocument.Parse(response.Text);
        JsonElement root = document.RootElement;
        Assert.Equal(["name", "age", "pet", "happy"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.String, root.GetProperty("name").ValueKind);
        Assert.True(root.GetProperty("age").TryGetInt64(out _));
        Assert.Contains(root.GetProperty("pet").GetString(), new[] { "cat", "dog" });
        Assert.True(root.GetProperty("happy").ValueKind is JsonValueKind.True or JsonValueKind.False);
    }
}
