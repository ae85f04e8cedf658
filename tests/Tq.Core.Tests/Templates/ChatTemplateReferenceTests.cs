using System.Text.Json.Nodes;
using Tq.Core.Templates;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Templates;

/// <summary>
/// Every template in <c>shared/templates</c> against llama.cpp's rendering of the four reference conversations
/// (<c>shared/reference/templates/renderings.json</c>), byte for byte.
/// </summary>
public sealed class ChatTemplateReferenceTests
{
    private static readonly Lazy<JsonObject> s_reference = new(() =>
        JsonNode.Parse(File.ReadAllText(TestPaths.Reference("templates", "renderings.json")))!.AsObject());

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (KeyValuePair<string, JsonNode?> template in s_reference.Value["renderings"]!.AsObject())
        {
            foreach (KeyValuePair<string, JsonNode?> conversation in template.Value!.AsObject())
            {
                data.Add(template.Key, conversation.Key);
            }
        }

        return data;
    }

    /// <summary>
    /// The input llama.cpp had: stories260K's special tokens, the reference date, <c>enable_thinking</c> defined
    /// (llama.cpp's default). stories260K's tokenizer adds BOS itself, so llama.cpp dropped a leading <c>&lt;s&gt;</c>
    /// from its renderings: <see cref="ChatTemplateInput.TokenizerAddsBos"/> does the same here.
    /// </summary>
    internal static ChatTemplateInput ReferenceInput(string conversation)
    {
        JsonObject source = s_reference.Value["conversations"]![conversation]!.AsObject();
        return new ChatTemplateInput(source["messages"]!.DeepClone().AsArray())
        {
            Tools = source["tools"]?.DeepClone().AsArray(),
            BosToken = "<s>",
            EosToken = "</s>",
            TokenizerAddsBos = true,
            TimeProvider = FixedTimeProvider.ReferenceDay,
        };
    }

    [Fact]
    public void Reference_CoversEveryTemplateAndConversation()
    {
        string[] templates = Directory.GetFiles(Path.GetDirectoryName(TestPaths.Template("README.md"))!, "*.jinja");
        Assert.Equal(14, templates.Length);
        Assert.Equal(templates.Length * 4, Cases().Count);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Render_ReferenceConversation_MatchesLlamaCpp(string templateFile, string conversation)
    {
        ChatTemplate template = ChatTemplate.Parse(File.ReadAllText(TestPaths.Template(templateFile)));
        ChatTemplateInput input = ReferenceInput(conversation);
        JsonNode expected = s_reference.Value["renderings"]![templateFile]![conversation]!;

        if (expected is JsonObject error)
        {
            Assert.True(error.ContainsKey("error"));
            ChatTemplateException e = Assert.Throws<ChatTemplateException>(() => template.Render(input));
            // All refusals in the reference come from the template's own raise_exception (role alternation,
            // Mistral's nine-character tool-call ids), not from a renderer limitation.
            Assert.True(e.IsRaisedByTemplate, e.Message);
            Assert.NotNull(e.Line);
            return;
        }

        Assert.Equal(expected.GetValue<string>(), template.Render(input));
    }
}
