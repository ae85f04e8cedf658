using Tq.Extensions.AI;

namespace Tq.Cli.Commands;

/// <summary>
/// The chat-engine options <c>tq chat</c> and <c>tq serve</c> share (model, KV-cache kind and bits, threads), and the
/// one place they become <see cref="TurboQuantChatOptions"/>.
/// </summary>
internal sealed class EngineArguments
{
    /// <summary><c>--model/-m</c>: a path or a pulled model.</summary>
    public Option<string> Model { get; } = CliOptions.ModelReference();

    /// <summary><c>--cache</c>: the KV-cache kind (default: from the bits).</summary>
    public Option<string?> Cache { get; } = new("--cache") { Description = "KV-cache kind: f16, q8_0 or tq (TurboQuant at --bits-k/--bits-v); default: from the bits (16/16 FP16, 8/8 Q8_0, else TurboQuant)." };

    /// <summary><c>--bits-k</c>.</summary>
    public Option<float> BitsK { get; } = new("--bits-k") { Description = "Key bits: 2, 2.5, 3, 3.5, 4 (TurboQuant), 8 (Q8_0), 16 (FP16).", DefaultValueFactory = _ => 4f };

    /// <summary><c>--bits-v</c>.</summary>
    public Option<float> BitsV { get; } = new("--bits-v") { Description = "Value bits (as --bits-k).", DefaultValueFactory = _ => 2f };

    /// <summary><c>--threads/-t</c>.</summary>
    public Option<int> Threads { get; } = CliOptions.Threads();

    /// <summary>Engine options with the model, cache and threads of <paramref name="parse"/>.</summary>
    public TurboQuantChatOptions Read(ParseResult parse) => new()
    {
        ModelPath = parse.GetValue(Model),
        KvCacheKind = parse.GetValue(Cache) is { } kind ? CacheArguments.ParseKind(kind) : null,
        BitsK = parse.GetValue(BitsK),
        BitsV = parse.GetValue(BitsV),
        Threads = parse.GetValue(Threads),
    };
}
