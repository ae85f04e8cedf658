using System.Text;
using System.Text.Json;
using Tq.Core.Gguf;
using Tq.Core.Tokenization;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq tokenize -m model.gguf (-p text | -f file) [--ids] [--no-bos] [--parse-special]</c>: tokenizes like llama.cpp's
/// <c>llama-tokenize</c> (one <c>id -&gt; 'piece'</c> line per token, or a <c>[1, 2, 3]</c> list with <c>--ids</c>);
/// with <c>--jsonl</c> it reads one JSON string per stdin line and writes one JSON array of ids per line.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "The GGUF model (or vocabulary-only GGUF) whose tokenizer to use.", Required = true };
        var prompt = new Option<string?>("--prompt", "-p") { Description = "The text to tokenize." };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "A file whose bytes (UTF-8) to tokenize." };
        var ids = new Option<bool>("--ids") { Description = "Print only the ids, as a Python-style list." };
        var noBos = new Option<bool>("--no-bos") { Description = "Do not add BOS (or EOS) even when the vocabulary asks for it." };
        var parseSpecial = new Option<bool>("--parse-special") { Description = "Turn control-token texts such as <|im_start|> into their tokens." };
        var jsonl = new Option<bool>("--jsonl") { Description = "Read one JSON string per stdin line; write one JSON array of ids per line." };
        var command = CliOptions.Command("tokenize", "Tokenize text with a GGUF model's tokenizer, printing like llama.cpp's llama-tokenize.", model, prompt, file, ids, noBos, parseSpecial, jsonl);

        command.SetAction(parse => CliErrors.Run(() =>
        {
            string? text = parse.GetValue(prompt);
            FileInfo? input = parse.GetValue(file);
            bool lines = parse.GetValue(jsonl);
            if (lines ? text is not null || input is not null : (text is null) == (input is null))
            {
                throw new ArgumentException(lines ? "--jsonl reads stdin; do not pass -p or -f." : "Pass exactly one of -p <text> or -f <file>.");
            }

            using GgufFile gguf = GgufFile.Open(parse.GetValue(model)!.FullName);
            Tokenizer tokenizer = Tokenizer.FromGguf(gguf);
            bool addSpecial = !parse.GetValue(noBos);
            bool special = parse.GetValue(parseSpecial);
            using var stdout = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
            if (lines)
            {
                using var writer = new StreamWriter(stdout, new UTF8Encoding(false), leaveOpen: true);
                RunJsonLines(tokenizer, Console.In, writer, addSpecial, special);
            }
            else
            {
                text ??= Encoding.UTF8.GetString(File.ReadAllBytes(input!.FullName));
                Print(tokenizer, tokenizer.Encode(text, addSpecial, special), parse.GetValue(ids), stdout);
            }
        }));
        return command;
    }

    internal static void Print(Tokenizer tokenizer, int[] tokens, bool idsOnly, Stream output)
    {
        if (idsOnly)
        {
            output.Write(Encoding.UTF8.GetBytes($"[{string.Join(", ", tokens)}]\n"));
            return;
        }

        foreach (int id in tokens)
        {
            // llama-tokenize (on Linux) writes each piece's bytes as they are, even a partial UTF-8 character.
            output.Write(Encoding.UTF8.GetBytes($"{id,6} -> '"));
            output.Write(tokenizer.TokenToPieceUtf8(id));
            output.Write("'\n"u8);
        }
    }

    internal static void RunJsonLines(Tokenizer tokenizer, TextReader input, TextWriter output, bool addSpecial, bool parseSpecial)
    {
        int lineNumber = 0;
        var ids = new List<int>();
        for (string? line = input.ReadLine(); line is not null; line = input.ReadLine())
        {
            lineNumber++;
            string text;
            try
            {
                text = JsonSerializer.Deserialize(line, CliJsonContext.Default.String) ?? throw new JsonException("null is not a string");
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"stdin line {lineNumber} is not a JSON string: {ex.Message}", ex);
            }

            ids.Clear();
            tokenizer.Encode(text, ids, addSpecial, parseSpecial);
            output.WriteLine($"[{string.Join(",", ids)}]");
        }
    }
}
