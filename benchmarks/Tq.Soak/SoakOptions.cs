using System.Globalization;

namespace Tq.Soak;

/// <summary>The soak's command line: <c>--model --duration --clients --sessions --threads --report --seed</c>.</summary>
internal sealed class SoakOptions
{
    public string Model { get; private set; } = FindDefaultModel();

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(180);

    public int Clients { get; private set; } = 4;

    public int Sessions { get; private set; } = 4;

    public int Threads { get; private set; } = 1;

    public TimeSpan ReportEvery { get; private set; } = TimeSpan.FromSeconds(15);

    public int Seed { get; private set; } = 13;

    public static SoakOptions Parse(string[] args)
    {
        var o = new SoakOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "--model": o.Model = value; break;
                case "--duration": o.Duration = TimeSpan.FromSeconds(Positive(name, value)); break;
                case "--clients": o.Clients = Positive(name, value); break;
                case "--sessions": o.Sessions = Positive(name, value); break;
                case "--threads": o.Threads = Positive(name, value); break;
                case "--report": o.ReportEvery = TimeSpan.FromSeconds(Positive(name, value)); break;
                case "--seed": o.Seed = Positive(name, value); break;
                default: throw new ArgumentException($"Unknown option '{name}'; use --model, --duration, --clients, --sessions, --threads, --report or --seed.");
            }
        }

        return o;
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"{name} needs a positive integer; got '{value}'.");

    private static string FindDefaultModel()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "..", "shared", "models", "tq-chat-5m-q8_0.gguf");
            if (File.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        return "tq-chat-5m-q8_0.gguf";
    }
}
