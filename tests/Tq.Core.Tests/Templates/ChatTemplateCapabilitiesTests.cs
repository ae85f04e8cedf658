using System.Text.Json.Nodes;
using Tq.Core.Templates;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Templates;

public sealed class ChatTemplateCapabilitiesTests
{
    [Theory]
    [InlineData("google-gemma-2-2b-it.jinja", false, false, false, false)]
    [InlineData("meta-llama-Llama-3.1-8B-Instruct.jinja", true, true, true, true)]
    [InlineData("meta-llama-Llama-3.2-3B-Instruct.jinja", true, true, true, true)]
    [InlineData("Qwen-Qwen2.5-7B-Instruct.jinja", true, true, true, true)]
    [InlineData("Qwen3.5-4B.jinja", true, true, true, true)]
    [InlineData("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", true, false, true, true)]
    [InlineData("Qwen-Qwen3-0.6B.jinja", true, true, true, true)]
    [InlineData("NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", true, true, true, true)]
    [InlineData("mistralai-Mistral-Nemo-Instruct-2407.jinja", true, true, true, true)]
    [InlineData("microsoft-Phi-3.5-mini-instruct.jinja", true, false, false, false)]
    [InlineData("HuggingFaceTB-SmolLM3-3B.jinja", true, false, false, false)]
    [InlineData("ibm-granite-granite-3.3-2B-Instruct.jinja", true, true, false, false)]
    public void Capabilities_ReferenceTemplate_AreDetectedByProbing(string file, bool system, bool tools, bool toolCalls, bool objectArguments)
    {
        ChatTemplate template = ChatTemplate.Parse(File.ReadAllText(TestPaths.Template(file)));

        Assert.Equal(new ChatTemplateCapabilities(system, tools, toolCalls, objectArguments), template.Capabilities);
    }

    [Fact]
    public void Render_TemplateWithoutSystemRole_MergesLeadingSystemMessageIntoTheNextOne()
    {
        ChatTemplate template = ChatTemplate.Parse(
            "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}[{{ m.role }}:{{ m.content }}]{% endfor %}");
        JsonArray conversation = JsonNode.Parse("""
            [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}]
            """)!.AsArray();
        JsonArray systemOnly = JsonNode.Parse("""[{"role": "system", "content": "S"}]""")!.AsArray();
        JsonArray laterSystem = JsonNode.Parse("""[{"role": "user", "content": "U"}, {"role": "system", "content": "S"}]""")!.AsArray();

        Assert.False(template.Capabilities.SupportsSystemRole);
        Assert.Equal("[user:S\nU][assistant:A]", template.Render(new ChatTemplateInput(conversation)));
        Assert.Equal(string.Empty, template.Render(new ChatTemplateInput(systemOnly)));

        // Only a leading system message is adapted, as in llama.cpp: a later one reaches the template.
        Assert.Equal("System role not supported", Assert.Throws<ChatTemplateException>(() => template.Render(new ChatTemplateInput(laterSystem))).Message);
        Assert.Equal("System role not supported", Assert.Throws<ChatTemplateException>(() => template.Render(new ChatTemplateInput(conversation) { ApplyPolyfills = false })).Message);
    }

    [Fact]
    public void Render_ToolCallMessageWithoutContent_GetsEmptyContent()
    {
        ChatTemplate template = ChatTemplate.Parse("{% for m in messages %}[{{ m.role }}:{{ m.content is defined }}:{{ m.content | length }}]{% endfor %}");
        JsonArray messages = JsonNode.Parse("""
            [{"role": "user", "content": "Hey"}, {"role": "assistant", "tool_calls": [{"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]
            """)!.AsArray();

        Assert.Equal("[user:True:3][assistant:True:0]", template.Render(new ChatTemplateInput(messages)));
        Assert.Equal("[user:True:3][assistant:False:0]", template.Render(new ChatTemplateInput(messages) { ApplyPolyfills = false }));
    }

    [Fact]
    public void Render_TemplateNeedingObjectArguments_GetsParsedJsonArguments()
    {
        ChatTemplate template = ChatTemplate.Parse(
            "{% for m in messages %}{% for c in m.tool_calls %}{{ c.function.arguments | tojson }};{% endfor %}{% endfor %}");
        JsonArray messages = JsonNode.Parse("""
            [{"role": "user", "content": "Hey"},
             {"role": "assistant", "content": null, "tool_calls": [
                {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{\"b\": 1, \"a\": [true, null]}"}},
                {"id": "2", "type": "function", "function": {"name": "g", "arguments": "not json"}}]}]
            """)!.AsArray();

        Assert.True(template.Capabilities.SupportsObjectArguments);
        Assert.Equal("{\"b\": 1, \"a\": [true, null]};\"not json\";", template.Render(new ChatTemplateInput(messages)));
        Assert.Equal("\"{\\\"b\\\": 1, \\\"a\\\": [true, null]}\";\"not json\";", template.Render(new ChatTemplateInput(messages) { ApplyPolyfills = false }));
    }
}
