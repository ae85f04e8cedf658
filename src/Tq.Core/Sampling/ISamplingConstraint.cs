namespace Tq.Core.Sampling;

/// <summary>
/// A stage of the sampling chain that narrows the candidates before the <see cref="Sampler"/>'s own stages (penalties →
/// top-k → top-p → min-p → temperature → draw), as a grammar sampler does in llama.cpp's <c>llama_sampler_chain</c>:
/// it sets the logit of every token it forbids to −∞, and follows the chosen token.
/// </summary>
/// <remarks>
/// Implementations: <see cref="JsonConstraint"/> (JSON mode and JSON Schema), <see cref="ToolNameConstraint"/> (the
/// name of a forced tool call). A constraint holds the state of one answer: one instance per generation.
/// </remarks>
internal interface ISamplingConstraint
{
    /// <summary>Sets the logit of every token this stage forbids to −∞ (and changes no other logit).</summary>
    /// <param name="logits">The candidates' logits, one per vocabulary entry.</param>
    void Apply(Span<float> logits);

    /// <summary>Follows the token the chain chose.</summary>
    /// <param name="token">The chosen token.</param>
    void Accept(int token);

    /// <summary>Back to the start state (the answer starts over).</summary>
    void Reset();
}
