using System.Text.Json;
using System.Text.Json.Nodes;
using Tq.Core.Gguf;
using Tq.Core.Templates;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq template [-m model.gguf] [--template name|file] [--messages conversation.json]</c>: renders a conversation with a
/// model's chat template (or a built-in / file template) exactly as the engine will prompt the model, like llama.cpp's
/// <c>/apply-template</c>; <c>--caps</c> prints the template's detected capabilities instead.
/// </summary>
internal static class TemplateCommand
{
    public static Command Create()
    {
        var model = new OptionalModel("A GGUF model whose tokenizer.chat_template and special tokens to use.");
        var template = new Option<string?>("--template", "-t") { Description = $"A built-in template name ({string.Join(", ", BuiltInChatTemplates.Names)}) or a .jinja file; overrides the model's template." };
        var messages = new Option<FileInfo?>("--messages") { Description = "JSON file: an array of messages, or {\"messages\": [...], \"tools\": [...]} as llama.cpp's /apply-template takes. Default: one user message \"Hello\"." };
        var noGenerationPrompt = new Option<bool>("--no-generation-prompt") { Description = "Do not end with the assistant header." };
        var bos = new Option<string?>("--bos") { Description = "BOS token text (default: the model's, or empty)." };
        var eos = new Option<string?>("--eos") { Description = "EOS token text (default: the model's, or empty)." };
        var date = new Option<string?>("--date") { Description = "Render as on this day (yyyy-MM-dd) for templates that print the date." };
        var caps = new Option<bool>("--caps") { Description = "Print the template's detected capabilities instead of a rendering." };
        var command = CliOptions.Command("template", "Render a conversation with a model's chat template, as the engine prompts it.", template, messages, noGenerationPrompt, bos, eos, date, caps);
        model.AddTo(command);
        command.SetAction(parse =>
        {
            try
            {
                return CliErrors.Run(() => Run(
                    Console.Out,
                    model.Read(parse)?.FullName,
                    parse.GetValue(template),
                    parse.GetValue(messages)?.FullName,
                    !parse.GetValue(noGenerationPrompt),
                    parse.GetValue(bos),
                    parse.GetValue(eos),
                    parse.GetValue(date),
                    parse.GetValue(caps)));
            }
            catch (Exception ex) when (ex is ChatTemplateException or JsonException)
            {
                Console.Error.WriteLine($"tq: {CliErrors.OneLine(ex.Message)}");
                return 1;
            }
        });
        return command;
    }

    internal static void Run(TextWriter output, string? modelPath, string? templateChoice, string? messagesPath, bool addGenerationPrompt, string? bos, string? eos, string? date, bool printCapabilities)
    {
        string? modelTemplate = null;
        string modelBos = string.Empty;
        string modelEos = string.Empty;
        bool addsBos = false;
        if (modelPath is not null)
        {
            using GgufFile gguf = GgufFile.Open(modelPath);
            modelTemplate = gguf.Metadata.GetStringOrDefault("tokenizer.chat_template");
            if (gguf.Metadata.TryGetValue("tokenizer.ggml.tokens", out GgufValue? tokens))
            {
                IReadOnlyList<string> vocabulary = tokens.AsStringArray();
                modelBos = TokenText(vocabulary, gguf.Metadata.GetInt64OrDefault("tokenizer.ggml.bos_token_id", -1));
                modelEos = TokenText(vocabulary, gguf.Metadata.GetInt64OrDefault("tokenizer.ggml.eos_token_id", -1));
            }

            // llama.cpp's default: SentencePiece vocabularies add BOS unless the file says otherwise.
            bool spm = string.Equals(gguf.Metadata.GetStringOrDefault("tokenizer.ggml.model"), "llama", StringComparison.Ordinal);
            addsBos = gguf.Metadata.GetBooleanOrDefault("tokenizer.ggml.add_bos_token", spm);
        }

        if (templateChoice is not null && !BuiltInChatTemplates.TryGet(templateChoice, out _))
        {
            if (!File.Exists(templateChoice))
            {
                throw new ArgumentException($"'{templateChoice}' is neither a built-in template ({string.Join(", ", BuiltInChatTemplates.Names)}) nor a file.", nameof(templateChoice));
            }

            templateChoice = File.ReadAllText(templateChoice);
        }

        ChatTemplate chatTemplate = BuiltInChatTemplates.Resolve(modelTemplate, templateChoice);
        if (printCapabilities)
        {
            ChatTemplateCapabilities c = chatTemplate.Capabilities;
            output.WriteLine($"source               {(templateChoice is not null ? "--template" : modelTemplate is not null ? "model tokenizer.chat_template" : "built-in chatml (model has no template)")}");
            output.WriteLine($"system role          {c.SupportsSystemRole}");
            output.WriteLine($"tools                {c.SupportsTools}");
            output.WriteLine($"tool calls           {c.SupportsToolCalls}");
            output.WriteLine($"object arguments     {c.SupportsObjectArguments}");
            return;
        }

        JsonArray conversation;
        JsonArray? tools = null;
        if (messagesPath is null)
        {
            conversation = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hello" });
        }
        else
        {
            JsonNode? root = JsonNode.Parse(File.ReadAllText(messagesPath));
            switch (root)
            {
                case JsonArray array:
                    conversation = array;
                    break;
                case JsonObject obj when obj["messages"] is JsonArray array:
                    conversation = array;
                    tools = obj["tools"] as JsonArray;
                    break;
                default:
                    throw new InvalidDataException($"'{messagesPath}' must hold a JSON array of messages or an object with a \"messages\" array.");
            }
        }

        TimeProvider clock = TimeProvider.System;
        if (date is not null)
        {
            if (!DateTime.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime day))
            {
                throw new ArgumentException($"--date '{date}' is not a yyyy-MM-dd date.", nameof(date));
            }

            clock = new FixedClock(new DateTimeOffset(day.Date.AddHours(12), TimeSpan.Zero));
        }

        var input = new ChatTemplateInput(conversation)
        {
            Tools = tools,
            AddGenerationPrompt = addGenerationPrompt,
            BosToken = bos ?? modelBos,
            EosToken = eos ?? modelEos,
            TokenizerAddsBos = addsBos,
            TimeProvider = clock,
        };
        output.Write(chatTemplate.Render(input));
    }

    private static string TokenText(IReadOnlyList<string> vocabulary, long id) => id >= 0 && id < vocabulary.Count ? vocabulary[(int)id] : string.Empty;

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
