using Tq.Extensions.AI;

namespace Tq.Cli.Commands;

/// <summary>
/// The chat-engine options <c>tq chat</c> and <c>tq serve</c> share (model, KV-cache kind and bits, threads, context,
/// answer length), bound to <see cref="TurboQuantChatOptions"/>; each command adds its own to the binder.
/// </summary>
internal static class EngineArguments
{
    /// <summary>The shared options; <c>--ctx</c> and <c>--n-predict</c> described as the command means them.</summary>
    public static OptionBinder<TurboQuantChatOptions> Create(string contextDescription, string maxTokensDescription) => new OptionBinder<TurboQuantChatOptions>()
        .Add(CliOptions.ModelReference(), (o, v) => o.ModelPath = v)
        .Add(
            new Option<string?>("--cache") { Description = "KV-cache kind: f16, q8_0 or tq (TurboQuant at --bits-k/--bits-v); default: from the bits (16/16 FP16, 8/8 Q8_0, else TurboQuant)." },
            (o, v) => o.KvCacheKind = v is null ? null : CacheArguments.ParseKind(v))
        .Add(new Option<float>("--bits-k") { Description = "Key bits: 2, 2.5, 3, 3.5, 4 (TurboQuant), 8 (Q8_0), 16 (FP16).", DefaultValueFactory = _ => 4f }, (o, v) => o.BitsK = v)
        .Add(new Option<float>("--bits-v") { Description = "Value bits (as --bits-k).", DefaultValueFactory = _ => 2f }, (o, v) => o.BitsV = v)
        .Add(CliOptions.Threads(), (o, v) => o.Threads = v)
        .Add(CliOptions.Context(contextDescription), (o, v) => o.ContextSize = v)
        .Add(new Option<int?>("--n-predict", "-n") { Description = maxTokensDescription }, (o, v) => o.MaxOutputTokens = v);
}
