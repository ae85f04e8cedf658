namespace Tq.Core.Diagnostics;

/// <summary>The outcome of a perplexity run, with llama.cpp's figures.</summary>
/// <param name="Perplexity">exp(mean negative log-likelihood).</param>
/// <param name="Error">The ± estimate llama.cpp prints: stddev of the NLL over √(n−1), times the perplexity.</param>
/// <param name="Chunks">Chunks evaluated.</param>
/// <param name="ScoredTokens">Tokens whose likelihood was scored.</param>
/// <param name="RunningEstimates">The perplexity after each chunk (llama.cpp's <c>[1]5.47,[2]...</c>).</param>
internal sealed record PerplexityResult(double Perplexity, double Error, int Chunks, int ScoredTokens, IReadOnlyList<double> RunningEstimates);
