namespace Tq.SemanticKernel;

/// <summary>What the adapter does when a conversation no longer fits the model's context window.</summary>
/// <remarks>
/// The check runs before every model call (each step of an auto function-calling loop included): the rendered prompt
/// (messages, tool declarations, chat template) plus the tokens reserved for the answer must fit
/// <see cref="Tq.Extensions.AI.TurboQuantEngine.ContextLength"/>.
/// </remarks>
public enum ContextOverflowPolicy
{
    /// <summary>Fail with a <see cref="Tq.Core.Inference.ContextOverflowException"/> that gives the token counts.</summary>
    Throw,

    /// <summary>
    /// Drop the oldest turns (a user message and everything up to the next user message: answers, tool calls, tool
    /// results) until the prompt fits, keeping the system messages and the last user turn.
    /// </summary>
    TruncateOldest,

    /// <summary>Call <see cref="TurboQuantContextOptions.Reducer"/> (e.g. to summarise older turns) and use the history it returns.</summary>
    Reduce,
}
