namespace Tq.Extensions.AI;

/// <summary>What a request does with a reasoning model's <c>&lt;think&gt;</c> block.</summary>
internal enum ReasoningOutput
{
    /// <summary>The chat template is not a reasoning model's (or the answer is forced to a tool call): output is answer text.</summary>
    None,

    /// <summary>The block streams as <see cref="Microsoft.Extensions.AI.TextReasoningContent"/>.</summary>
    Keep,

    /// <summary>The block is dropped.</summary>
    Hide,
}
