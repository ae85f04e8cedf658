using Microsoft.SemanticKernel.ChatCompletion;

namespace Tq.SemanticKernel;

/// <summary>How the Semantic Kernel adapter keeps a conversation inside the model's context window.</summary>
public sealed class TurboQuantContextOptions
{
    /// <summary>What to do when the prompt plus the reserved answer tokens exceed the context (default <see cref="ContextOverflowPolicy.Throw"/>).</summary>
    public ContextOverflowPolicy OverflowPolicy { get; set; } = ContextOverflowPolicy.Throw;

    /// <summary>
    /// Tokens kept free for the answer when a request sets no <c>max_tokens</c> (and the engine options no
    /// <c>MaxOutputTokens</c>); 0 (the default) reserves a quarter of the context, at most 256 tokens.
    /// </summary>
    public int ReservedOutputTokens { get; set; }

    /// <summary>
    /// The history reducer of <see cref="ContextOverflowPolicy.Reduce"/>: receives the conversation that does not fit and
    /// returns a shorter one (it may change and return the same instance). A result that still does not fit fails
    /// with a <see cref="Tq.Core.Inference.ContextOverflowException"/>.
    /// </summary>
    public Func<ChatHistory, CancellationToken, Task<ChatHistory>>? Reducer { get; set; }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range, or <see cref="ContextOverflowPolicy.Reduce"/> has no <see cref="Reducer"/>.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(OverflowPolicy))
        {
            throw new ArgumentException($"OverflowPolicy {(int)OverflowPolicy} is not a ContextOverflowPolicy value.", nameof(OverflowPolicy));
        }

        if (ReservedOutputTokens < 0)
        {
            throw new ArgumentException($"ReservedOutputTokens must not be negative (got {ReservedOutputTokens}).", nameof(ReservedOutputTokens));
        }

        if (OverflowPolicy == ContextOverflowPolicy.Reduce && Reducer is null)
        {
            throw new ArgumentException("ContextOverflowPolicy.Reduce needs a Reducer.", nameof(Reducer));
        }
    }

    internal TurboQuantContextOptions Clone() => new()
    {
        OverflowPolicy = OverflowPolicy,
        ReservedOutputTokens = ReservedOutputTokens,
        Reducer = Reducer,
    };
}
