using System.Text.Json.Nodes;
using Tq.Testing;

namespace Tq.Cli.Tests.Commands;

/// <summary>
/// <c>tq template</c> against llama.cpp's <c>/apply-template</c> renderings (<c>reference/templates/renderings.json</c>,
/// rendered with stories260K.gguf loaded on 2026-11-23, so <c>--date 2026-11-23</c>).
/// </summary>
public sealed class TemplateCommandTests
{
    private static readonly JsonObject s_reference = JsonNode.Parse(File.ReadAllText(TestPaths.Reference("templates", "renderings.json")))!.AsObject();

    // A slice of the template x conversation grid that covers ChatML, Llama 3 (date), SmolLM3 (strftime), Mistral, Gemma,
    // Phi, DeepSeek, Granite and Hermes tool formats; Tq.Core.Tests renders the whole grid in-process.
    public static TheoryData<string, string> Renderings => new()
    {
        { "Qwen-Qwen2.5-7B-Instruct.jinja", "simple" },
        { "Qwen-Qwen2.5-7B-Instruct.jinja", "tools" },
        { "meta-llama-Llama-3.1-8B-Instruct.jinja", "multi_turn" },
        { "HuggingFaceTB-SmolLM3-3B.jinja", "simple" },
        { "mistralai-Mistral-Nemo-Instruct-2407.jinja", "tools_first_turn" },
        { "google-gemma-2-2b-it.jinja", "multi_turn" },
        { "microsoft-Phi-3.5-mini-instruct.jinja", "tools" },
        { "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "simple" },
        { "ibm-granite-granite-3.3-2B-Instruct.jinja", "tools_first_turn" },
        { "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", "tools" },
    };

    [Theory]
    [MemberData(nameof(Renderings))]
    public void Template_ReferenceConversation_MatchesLlamaCppRendering(string template, string conversation)
    {
        string expected = s_reference["renderings"]![template]![conversation]!.GetValue<string>();

        CliResult result = Render(template, conversation);

        CliAssert.Succeeded(result);
        Assert.Equal(expected, result.StdOut);
        Assert.Empty(result.StdErr);
    }

    // llama.cpp refused these (HTTP 400): the templates raise an error on tool messages / non-alternating roles.
    [Theory]
    [InlineData("google-gemma-2-2b-it.jinja", "tools", "Conversation roles must alternate")]
    [InlineData("mistralai-Mistral-Nemo-Instruct-2407.jinja", "tools", "Tool call IDs should be alphanumeric")]
    public void Template_ConversationTheTemplateRefuses_ExitsOneWithItsMessage(string template, string conversation, string message)
    {
        Assert.IsType<JsonObject>(s_reference["renderings"]![template]![conversation]); // {"error": ...} in the reference

        CliResult result = Render(template, conversation);

        CliAssert.FailedWithOneLine(result, message);
        Assert.Empty(result.StdOut);
    }

    [Fact]
    public void Template_ModelOwnTemplateWithoutMessages_RendersDefaultHelloInChatMl()
    {
        CliResult result = TqProcess.Run("template", TestPaths.Model("tq-chat-5m-q8_0.gguf"));

        CliAssert.Succeeded(result);
        Assert.EndsWith("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Template_BadDate_ExitsOneNamingTheOption()
    {
        CliResult result = TqProcess.Run("template", "-t", TestPaths.Template("meta-llama-Llama-3.1-8B-Instruct.jinja"), "--date", "23/11/2026");

        CliAssert.FailedWithOneLine(result, "--date '23/11/2026'");
    }

    private static CliResult Render(string template, string conversation)
    {
        string messages = Path.Combine(Path.GetTempPath(), $"tq-cli-conversation-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(messages, s_reference["conversations"]![conversation]!.ToJsonString());
            return TqProcess.Run("template", TestPaths.Model("stories260K.gguf"), "-t", TestPaths.Template(template), "--messages", messages, "--date", "2026-11-23");
        }
        finally
        {
            File.Delete(messages);
        }
    }
}
