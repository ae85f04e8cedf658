using System.Text.Json.Nodes;
using Tq.Core.Gguf;
using Tq.Core.Templates;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Templates;

public sealed class BuiltInChatTemplatesTests
{
    private const string Conversation = """
        [{"role": "system", "content": "S"}, {"role": "user", "content": "U1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "U2"}]
        """;

    private const string QwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

    // Expected texts follow llama.cpp's built-in (C++) formats of the same names in llama-chat.cpp.
    [Theory]
    [InlineData("chatml", "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n")]
    [InlineData("llama3", "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU1<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA1<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU2<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")]
    [InlineData("mistral-v7", "[SYSTEM_PROMPT] S[/SYSTEM_PROMPT][INST] U1[/INST] A1</s>[INST] U2[/INST]")]
    [InlineData("mistral", "[SYSTEM_PROMPT] S[/SYSTEM_PROMPT][INST] U1[/INST] A1</s>[INST] U2[/INST]")]
    [InlineData("phi3", "<|system|>\nS<|end|>\n<|user|>\nU1<|end|>\n<|assistant|>\nA1<|end|>\n<|user|>\nU2<|end|>\n<|assistant|>\n")]
    [InlineData("gemma", "<start_of_turn>user\nS\n\nU1<end_of_turn>\n<start_of_turn>model\nA1<end_of_turn>\n<start_of_turn>user\nU2<end_of_turn>\n<start_of_turn>model\n")]
    [InlineData("CHATML", "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n")]
    public void Get_SimpleFormat_RendersAsLlamaCppBuiltIn(string name, string expected)
    {
        var input = new ChatTemplateInput(JsonNode.Parse(Conversation)!.AsArray())
        {
            BosToken = "<s>",
            EosToken = "</s>",
            TokenizerAddsBos = true,
        };

        Assert.Equal(expected, BuiltInChatTemplates.Get(name).Render(input));
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("multi_turn")]
    [InlineData("tools")]
    [InlineData("tools_first_turn")]
    public void Get_Qwen25_MatchesReferenceRendering(string conversation)
    {
        string expected = ReferenceRendering("Qwen-Qwen2.5-7B-Instruct.jinja", conversation);

        string actual = BuiltInChatTemplates.Get("qwen2.5").Render(ChatTemplateReferenceTests.ReferenceInput(conversation));

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Get_ChatMlTools_IsTheTemplateOfTheTqChatModel()
    {
        using GgufFile gguf = GgufFile.Open(TestPaths.Model("tq-chat-5m-f16.gguf"));

        Assert.Equal(gguf.Metadata.GetStringOrDefault("tokenizer.chat_template"), BuiltInChatTemplates.Get("chatml-tools").Source);
    }

    // The tq-chat models' template is Qwen2.5's format with "You are a helpful assistant." as default system prompt,
    // so llama.cpp's Qwen2.5 renderings with that one substitution are its expected renderings.
    [Theory]
    [InlineData("simple")]
    [InlineData("multi_turn")]
    [InlineData("tools")]
    [InlineData("tools_first_turn")]
    public void Render_TqChatGgufTemplate_MatchesQwen25ReferenceWithItsDefaultSystemPrompt(string conversation)
    {
        using GgufFile gguf = GgufFile.Open(TestPaths.Model("tq-chat-5m-f16.gguf"));
        ChatTemplate template = ChatTemplate.Parse(gguf.Metadata.GetStringOrDefault("tokenizer.chat_template")!);
        string expected = ReferenceRendering("Qwen-Qwen2.5-7B-Instruct.jinja", conversation)
            .Replace(QwenDefaultSystem, "You are a helpful assistant.", StringComparison.Ordinal);

        Assert.Equal(expected, template.Render(ChatTemplateReferenceTests.ReferenceInput(conversation)));
    }

    [Fact]
    public void Default_IsChatMl()
    {
        Assert.Equal("chatml", BuiltInChatTemplates.DefaultName);
        Assert.Same(BuiltInChatTemplates.Get("chatml"), BuiltInChatTemplates.Default);
    }

    [Fact]
    public void Names_ListsEveryRequiredTemplate()
    {
        foreach (string name in new[] { "chatml", "chatml-tools", "llama3", "mistral", "mistral-v7", "phi3", "gemma", "qwen2.5" })
        {
            Assert.Contains(name, BuiltInChatTemplates.Names);
            Assert.True(BuiltInChatTemplates.TryGet(name, out ChatTemplate? template));
            Assert.NotNull(template);
        }
    }

    [Fact]
    public void Get_UnknownName_ThrowsArgumentExceptionListingNames()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => BuiltInChatTemplates.Get("vicuna-x"));

        Assert.Equal("name", e.ParamName);
        Assert.Contains("chatml", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_UserChoiceWinsThenModelTemplateThenChatMl()
    {
        const string modelTemplate = "{{ 'model' }}";

        Assert.Same(BuiltInChatTemplates.Get("phi3"), BuiltInChatTemplates.Resolve(modelTemplate, "phi3"));
        Assert.Equal("{{ 'mine' }}", BuiltInChatTemplates.Resolve(modelTemplate, "{{ 'mine' }}").Source);
        Assert.Equal(modelTemplate, BuiltInChatTemplates.Resolve(modelTemplate).Source);
        Assert.Same(BuiltInChatTemplates.Default, BuiltInChatTemplates.Resolve(null));
        Assert.Same(BuiltInChatTemplates.Default, BuiltInChatTemplates.Resolve("  "));
    }

    private static string ReferenceRendering(string templateFile, string conversation)
    {
        JsonNode reference = JsonNode.Parse(File.ReadAllText(TestPaths.Reference("templates", "renderings.json")))!;
        return reference["renderings"]![templateFile]![conversation]!.GetValue<string>();
    }
}
