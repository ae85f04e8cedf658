using System.Globalization;

namespace SkAgent;

/// <summary>The command line of the sample.</summary>
internal sealed class SkAgentOptions
{
    public const string Usage = """
        Usage: dotnet run --project samples/SkAgent -- [options]
          --prompt TEXT        ask one question and exit (repeatable); without it, read questions from the console until /exit
          --model PATH         GGUF model (default ../shared/models/tq-chat-5m-q8_0.gguf beside the repository)
          --docs DIR           folder of .txt/.md documents (default ../shared/corpora/needle_haystack/PaulGrahamEssays)
          --document NAME      document loaded into the context (default: the first one)
          --document-chars N   characters of it loaded (default 300, about 180 tokens with tq-chat-5m's small vocabulary)
          --context N          context window in tokens (default: the model's trained context, or the 1536 the agent's
                               instructions, tools and document excerpt need if that is more; a note says so)
          --bits-k B --bits-v B  KV-cache bits (default 4 / 2; 16 / 16 = FP16)
          --max-tokens N       answer length cap (default 96)
          --temperature T      sampling temperature (default 0)
          --seed N             sampling seed (default 42)
        """;

    public List<string> Prompts { get; } = [];

    public string? Model { get; private set; }

    public string? Docs { get; private set; }

    public string? Document { get; private set; }

    public int DocumentChars { get; private set; } = 300;

    /// <summary>The context window; 0 takes the model's trained context (at least what the agent's prompt needs).</summary>
    public int Context { get; private set; }

    public float BitsK { get; private set; } = 4f;

    public float BitsV { get; private set; } = 2f;

    public int MaxTokens { get; private set; } = 96;

    public float Temperature { get; private set; }

    public long Seed { get; private set; } = 42;

    public static SkAgentOptions Parse(IReadOnlyList<string> args)
    {
        var options = new SkAgentOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "--prompt": options.Prompts.Add(Value()); break;
                case "--model": options.Model = Value(); break;
                case "--docs": options.Docs = Value(); break;
                case "--document": options.Document = Value(); break;
                case "--document-chars": options.DocumentChars = ParseInt(name, Value(), 0); break;
                case "--context": options.Context = ParseInt(name, Value(), 1); break;
                case "--bits-k": options.BitsK = ParseFloat(name, Value()); break;
                case "--bits-v": options.BitsV = ParseFloat(name, Value()); break;
                case "--max-tokens": options.MaxTokens = ParseInt(name, Value(), 1); break;
                case "--temperature": options.Temperature = ParseFloat(name, Value()); break;
                case "--seed": options.Seed = ParseInt(name, Value(), 0); break;
                default: throw new ArgumentException($"Unknown option '{name}'.");
            }
        }

        return options;
    }

    private static int ParseInt(string name, string text, int min) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min
            ? value
            : throw new ArgumentException($"{name} needs an integer of at least {min} (got '{text}').");

    private static float ParseFloat(string name, string text) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value)
            ? value
            : throw new ArgumentException($"{name} needs a number (got '{text}').");
}
