using System.Numerics;
using System.Text;
using Tq.Core.Cache;
using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Sampling;
using Tq.Core.Tokenization;

namespace Tq.Cli.Commands;

/// <summary>
/// <c>tq niah -m model.gguf</c>: needle in a haystack in the passkey-continuation form (for models that cannot follow a
/// question): <c>The secret passkey is 48151.</c> is placed at a sentence boundary at each depth of a haystack of each
/// length, the prompt ends with <c>The secret passkey is</c>, and the needle is found when the greedy continuation
/// reproduces the number. Runs the F16 cache and the chosen cache, prints both grids and writes PNG heat maps.
/// </summary>
internal static class NiahCommand
{
    private const string DefaultNeedle = " The secret passkey is 48151.";
    private const string DefaultQuestion = " The secret passkey is";
    private const int Generated = 6;

    public static Command Create()
    {
        var model = CliOptions.ModelFile();
        var haystack = new Option<string>("--haystack") { Description = "A text file or a folder of .txt files (concatenated in name order, repeated as needed).", Required = true };
        var lengths = new Option<string>("--lengths") { Description = "Context lengths in tokens, comma separated (0: up to the model's context in 8 steps).", DefaultValueFactory = _ => "0" };
        var depths = new Option<string>("--depths") { Description = "Needle depths in percent, comma separated.", DefaultValueFactory = _ => "0,10,20,30,40,50,60,70,80,90,100" };
        var threads = CliOptions.Threads("Threads (0: every core).");
        var needleOption = new Option<string>("--needle") { Description = "The needle sentence.", DefaultValueFactory = _ => DefaultNeedle };
        var questionOption = new Option<string>("--question") { Description = "The text the prompt ends with (the needle's start).", DefaultValueFactory = _ => DefaultQuestion };
        var verbose = new Option<bool>("--verbose") { Description = "Print every continuation." };
        var png = new Option<string?>("--png") { Description = "Write heat maps to <prefix>-f16.png and <prefix>-<cache>.png." };
        var cache = new CacheArguments();
        var command = CliOptions.Command("niah", "Needle in a haystack (passkey continuation) for the F16 cache and a chosen cache, as grids and PNG heat maps.", [model, haystack, lengths, depths, threads, png, verbose, needleOption, questionOption, .. cache.Options]);

        command.SetAction(parse => CliErrors.Run(() => Run(parse.GetValue(model)!.FullName, parse.GetValue(needleOption)!, parse.GetValue(questionOption)!, parse.GetValue(haystack)!, parse.GetValue(lengths)!,
            parse.GetValue(depths)!, parse.GetValue(threads), cache.Read(parse), parse.GetValue(png), parse.GetValue(verbose), Console.Out)));
        return command;
    }

    private static T ParseNumber<T>(string text, string option)
        where T : INumber<T> =>
        T.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out T? value)
            ? value
            : throw new ArgumentException($"{option}: '{text}' is not a number; give a comma-separated list such as 10,50,90.", nameof(text));

    internal static void Run(string modelPath, string needleText, string questionText, string haystackPath, string lengthList, string depthList, int threads, KvCacheOptions options, string? pngPrefix, bool verbose, TextWriter output)
    {
        using Model model = Model.Load(modelPath, new ModelOptions { Threads = threads });
        Tokenizer tokenizer = Tokenizer.FromGguf(model.File);
        int context = model.TrainedContextLength;
        int[] lengths = lengthList == "0"
            ? [.. Enumerable.Range(1, 8).Select(i => context * i / 8)]
            : [.. lengthList.Split(',').Select(s => ParseNumber<int>(s, "--lengths"))];
        double[] depths = [.. depthList.Split(',').Select(s => ParseNumber<double>(s, "--depths") / 100)];
        int maxLength = lengths.Max();
        if (maxLength > context || lengths.Min() < 64)
        {
            throw new ArgumentException($"Lengths must be between 64 and the model's context of {context}.", nameof(lengthList));
        }

        string text = Directory.Exists(haystackPath)
            ? string.Concat(Directory.GetFiles(haystackPath, "*.txt").Order(StringComparer.Ordinal).Select(File.ReadAllText))
            : File.ReadAllText(haystackPath);
        int[] hay = tokenizer.Encode(text, addSpecial: false);
        if (!needleText.StartsWith(questionText, StringComparison.Ordinal) || needleText.Length <= questionText.Length)
        {
            throw new ArgumentException("The needle must start with the question text and continue past it.", nameof(needleText));
        }

        string answer = needleText[questionText.Length..].Trim().TrimEnd('.');
        int[] needle = tokenizer.Encode(needleText, addSpecial: false);
        int[] question = tokenizer.Encode(questionText, addSpecial: false);
        bool[] sentenceEnd = new bool[tokenizer.VocabularySize];
        for (int id = 0; id < sentenceEnd.Length; id++)
        {
            sentenceEnd[id] = tokenizer.TokenToPiece(id).TrimEnd().EndsWith('.');
        }

        output.WriteLine($"{Path.GetFileName(modelPath)}: haystack {Path.GetFileName(haystackPath.TrimEnd('/'))} ({hay.Length} tokens), needle '{needleText.Trim()}', expected continuation '{answer}'");
        var settings = new[] { new KvCacheOptions(), options };
        var grids = new List<bool[,]>();
        var logGrids = new List<double[,]>();
        int[] answerTokens = needle[question.Length..];
        if (!needle.AsSpan(0, question.Length).SequenceEqual(question))
        {
            throw new ArgumentException("The needle's tokens must start with the question's tokens.", nameof(questionText));
        }
        foreach (KvCacheOptions setting in settings)
        {
            using Session session = model.CreateSession(new SessionOptions { ContextLength = maxLength, KvCache = setting });
            var found = new bool[depths.Length, lengths.Length];
            var logProbs = new double[depths.Length, lengths.Length];
            for (int li = 0; li < lengths.Length; li++)
            {
                for (int di = 0; di < depths.Length; di++)
                {
                    int[] prompt = BuildPrompt(model.BosTokenId, hay, needle, question, sentenceEnd, lengths[li] - Generated, depths[di]);
                    session.SetHistory(prompt);
                    logProbs[di, li] = AnswerLogProb(session, answerTokens);
                    session.SetHistory(prompt);
                    var sampler = new Sampler(SamplerOptions.Greedy);
                    int[] continuation = [.. session.Generate(sampler, Generated)];
                    string said = tokenizer.Decode(continuation);
                    found[di, li] = said.Contains(answer, StringComparison.Ordinal);
                    if (verbose)
                    {
                        output.WriteLine($"  {CacheArguments.Label(setting)} length {lengths[li]} depth {depths[di] * 100:F0}%: '{said}'");
                    }
                }
            }

            grids.Add(found);
            logGrids.Add(logProbs);
            PrintGrid(output, CacheArguments.Label(setting), found, lengths, depths);
            if (pngPrefix is not null)
            {
                string name = $"{pngPrefix}-{Slug(CacheArguments.Label(setting))}.png";
                using FileStream stream = File.Create(name);
                WriteHeatMap(stream, found, grids[0]);
                output.WriteLine($"heat map: {name}");
            }
        }

        int f16Found = 0, kept = 0;
        for (int di = 0; di < depths.Length; di++)
        {
            for (int li = 0; li < lengths.Length; li++)
            {
                if (grids[0][di, li])
                {
                    f16Found++;
                    kept += grids[1][di, li] ? 1 : 0;
                }
            }
        }

        output.WriteLine($"{CacheArguments.Label(options)} finds {kept} of the {f16Found} cells the F16 cache finds ({depths.Length * lengths.Length} cells).");
        double f16Lp = 0, lp = 0, diff = 0;
        int cells = depths.Length * lengths.Length;
        foreach ((int di, int li) in Enumerable.Range(0, depths.Length).SelectMany(d => Enumerable.Range(0, lengths.Length).Select(l => (d, l))))
        {
            f16Lp += logGrids[0][di, li] / cells;
            lp += logGrids[1][di, li] / cells;
            diff += Math.Abs(logGrids[1][di, li] - logGrids[0][di, li]) / cells;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"log-probability of the needle's answer tokens (teacher forced), mean over cells: F16 {f16Lp:F3}, {CacheArguments.Label(options)} {lp:F3}, mean |difference| {diff:F4}"));
    }

    // Σ log p(answer token | prompt and the answer tokens before it).
    private static double AnswerLogProb(Session session, int[] answer)
    {
        int vocab = session.Model.VocabularySize;
        float[] first = session.Logits.ToArray();
        CompareCommand.LogSoftmax(first);
        double sum = first[answer[0]];
        if (answer.Length > 1)
        {
            float[] logits = new float[(answer.Length - 1) * vocab];
            session.Evaluate(answer.AsSpan(0, answer.Length - 1), logits, CancellationToken.None);
            for (int i = 1; i < answer.Length; i++)
            {
                Span<float> row = logits.AsSpan((i - 1) * vocab, vocab);
                CompareCommand.LogSoftmax(row);
                sum += row[answer[i]];
            }
        }

        return sum;
    }

    internal static int[] BuildPrompt(int bos, int[] hay, int[] needle, int[] question, bool[] sentenceEnd, int length, double depth)
    {
        int room = length - needle.Length - question.Length - (bos >= 0 ? 1 : 0);
        var tokens = new List<int>(length);
        if (bos >= 0)
        {
            tokens.Add(bos);
        }

        // The haystack repeats as needed; the needle goes after the last sentence end at or before the depth.
        // The haystack ends at a sentence end too, so the question starts a sentence.
        int end = room;
        while (end > room / 2 && !sentenceEnd[hay[(end - 1) % hay.Length]])
        {
            end--;
        }

        int[] body = [.. Enumerable.Range(0, end).Select(i => hay[i % hay.Length])];
        room = end;
        int at = (int)Math.Round(depth * room);
        while (at > 0 && !sentenceEnd[body[at - 1]])
        {
            at--;
        }

        tokens.AddRange(body.AsSpan(0, at));
        tokens.AddRange(needle);
        tokens.AddRange(body.AsSpan(at));
        tokens.AddRange(question);
        return [.. tokens];
    }

    private static void PrintGrid(TextWriter output, string label, bool[,] found, int[] lengths, double[] depths)
    {
        output.WriteLine();
        output.WriteLine($"{label}: rows = needle depth, columns = context length; # found, . missed");
        var sb = new StringBuilder("depth ");
        foreach (int l in lengths)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{l,6}");
        }

        output.WriteLine(sb.ToString());
        for (int di = 0; di < depths.Length; di++)
        {
            sb.Clear().Append(CultureInfo.InvariantCulture, $"{depths[di] * 100,4:F0}% ");
            for (int li = 0; li < lengths.Length; li++)
            {
                sb.Append(found[di, li] ? "     #" : "     .");
            }

            output.WriteLine(sb.ToString());
        }
    }

    // Cells 24 px square with a 1 px grid: green found; red missed where F16 found it; dark red missed by F16 too.
    private static void WriteHeatMap(Stream stream, bool[,] found, bool[,] reference)
    {
        const int Cell = 24;
        int rows = found.GetLength(0), cols = found.GetLength(1);
        int width = cols * Cell, height = rows * Cell;
        byte[] rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int r = y / Cell, c = x / Cell;
                bool border = x % Cell == 0 || y % Cell == 0;
                (byte R, byte G, byte B) color = border ? ((byte)255, (byte)255, (byte)255)
                    : found[r, c] ? ((byte)40, (byte)170, (byte)70)
                    : reference[r, c] ? ((byte)220, (byte)40, (byte)40)
                    : ((byte)120, (byte)30, (byte)30);
                int i = ((y * width) + x) * 3;
                rgb[i] = color.R;
                rgb[i + 1] = color.G;
                rgb[i + 2] = color.B;
            }
        }

        PngWriter.Write(stream, width, height, rgb);
    }

    private static string Slug(string label) =>
        string.Concat(label.Select(ch => char.IsLetterOrDigit(ch) || ch == '.' ? char.ToLowerInvariant(ch) : '_'));
}
