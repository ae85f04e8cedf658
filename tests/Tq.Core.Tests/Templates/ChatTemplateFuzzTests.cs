using Tq.Core.Templates;
using Tq.Testing;
using Xunit;

namespace Tq.Core.Tests.Templates;

/// <summary>Corrupted templates must fail with <see cref="ChatTemplateException"/>, never with another exception or a hang.</summary>
public sealed class ChatTemplateFuzzTests
{
    private static readonly string[] s_fragments = ["{{", "}}", "{%", "%}", "{#", "#}", "-", "(", ")", "[", "]", "'", "\"", "|", ".", ",", " if ", " else ", " endfor ", " in ", " is ", "loop", "\n", "{", "}", ":", "=", "not", "set", "ns.x"];

    [Fact]
    public void ParseAndRender_MutatedReferenceTemplates_FailOnlyWithChatTemplateException()
    {
        string[] files = Directory.GetFiles(Path.GetDirectoryName(TestPaths.Template("README.md"))!, "*.jinja");
        var random = new Random(20261123);
        int parsed = 0;
        int rendered = 0;
        int rejected = 0;
        for (int iteration = 0; iteration < 1500; iteration++)
        {
            string source = File.ReadAllText(files[iteration % files.Length]);
            for (int edits = random.Next(1, 4); edits > 0; edits--)
            {
                int at = random.Next(source.Length);
                source = random.Next(3) switch
                {
                    0 => source.Remove(at, Math.Min(random.Next(1, 8), source.Length - at)),
                    1 => source.Insert(at, s_fragments[random.Next(s_fragments.Length)]),
                    _ => source.Remove(at, 1).Insert(at, s_fragments[random.Next(s_fragments.Length)]),
                };
            }

            try
            {
                ChatTemplate template = ChatTemplate.Parse(source);
                parsed++;
                template.Render(ChatTemplateReferenceTests.ReferenceInput(iteration % 2 == 0 ? "tools" : "multi_turn"));
                rendered++;
            }
            catch (ChatTemplateException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                rejected++;
            }
        }

        Assert.Equal(1500, rendered + rejected);
        Assert.True(parsed > 0 && rejected > 0, $"parsed {parsed}, rendered {rendered}, rejected {rejected}");
    }
}
