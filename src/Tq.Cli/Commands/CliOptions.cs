namespace Tq.Cli.Commands;

/// <summary>
/// The options several commands take, defined once (as llama.cpp's common arguments): the model, threads, context,
/// text file and the temperature (the chat engine's own group is <see cref="EngineArguments"/>); and the one way a command gets its options.
/// </summary>
internal static class CliOptions
{
    /// <summary><c>--model/-m</c>: a GGUF file (the measuring commands).</summary>
    public static Option<FileInfo> ModelFile() => new("--model", "-m") { Description = "The GGUF model.", Required = true };

    /// <summary><c>--model/-m</c>: a path or a pulled model (the commands on the chat engine).</summary>
    public static Option<string> ModelReference() => new("--model", "-m") { Description = "The GGUF model: a path or a model pulled with `tq pull`.", Required = true };

    /// <summary><c>--threads/-t</c>, 0 for every core.</summary>
    public static Option<int> Threads(string description = "Threads (default: every core).") => new("--threads", "-t") { Description = description, DefaultValueFactory = _ => 0 };

    /// <summary><c>--ctx/-c</c>: the context window, or the tokens per chunk of the scoring commands.</summary>
    public static Option<int> Context(string description, int defaultValue = 0) => new("--ctx", "-c") { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary><c>--file/-f</c>: the text the scoring commands read.</summary>
    public static Option<FileInfo> TextFile() => new("--file", "-f") { Description = "The text to score.", Required = true };

    /// <summary><c>--temp</c>.</summary>
    public static Option<float> Temperature() => new("--temp") { Description = "Temperature (0: greedy).", DefaultValueFactory = _ => 0.8f };

    /// <summary>A command with <paramref name="options"/>.</summary>
    public static Command Command(string name, string description, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (Option o in options)
        {
            command.Options.Add(o);
        }

        return command;
    }
}
