using Tq.Core.Inference;
using Tq.Core.Models;
using Tq.Core.Tokenization;

namespace Tq.Core.Diagnostics;

/// <summary>
/// llama.cpp's <c>llama-perplexity</c> method: the token stream (with BOS when the vocabulary adds one) is cut into
/// chunks of the context length; each chunk is evaluated from an empty cache, its first token replaced by BOS only when
/// the vocabulary's <c>tokenizer.ggml.add_bos_token</c> says so (Qwen's does not: the chunk is left as it is), and only
/// the second half of each chunk is scored (every token from n_ctx/2 on predicts the next), so each scored token sees
/// at least n_ctx/2 tokens.
/// </summary>
internal static class PerplexityEvaluator
{
    /// <summary>Runs the evaluation.</summary>
    /// <param name="model">The model.</param>
    /// <param name="tokens">The whole text's tokens, as the tokenizer encodes it with special tokens (BOS first if the vocabulary adds one).</param>
    /// <param name="contextLength">Tokens per chunk (llama.cpp <c>-c</c>).</param>
    /// <param name="maxChunks">At most this many chunks (≤ 0: all).</param>
    /// <param name="batchSize">Tokens per forward pass (llama.cpp <c>-b</c>/<c>-ub</c>).</param>
    /// <param name="onChunk">Called after each chunk with its 1-based number and the running perplexity.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <param name="addBos">Whether each chunk starts with BOS; null (default) follows the vocabulary (<see cref="Tokenizer.AddBos"/>), as llama.cpp.</param>
    /// <exception cref="ArgumentException">Fewer than 2 × <paramref name="contextLength"/> tokens (llama.cpp's requirement), or BOS is needed and the model has none.</exception>
    public static PerplexityResult Evaluate(Model model, ReadOnlySpan<int> tokens, int contextLength, int maxChunks = 0, int batchSize = 512,
        Action<int, double>? onChunk = null, bool? addBos = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 4);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (tokens.Length < 2 * contextLength)
        {
            throw new ArgumentException($"Perplexity needs at least {2 * contextLength} tokens (2 × context {contextLength}); the text has {tokens.Length}.", nameof(tokens));
        }

        bool withBos = addBos ?? Tokenizer.FromGguf(model.File).AddBos;
        int bos = model.BosTokenId;
        if (withBos && bos < 0)
        {
            throw new ArgumentException("The model declares no BOS token, which the method puts at the start of every chunk.", nameof(model));
        }

        int chunks = tokens.Length / contextLength;
        if (maxChunks > 0)
        {
            chunks = Math.Min(chunks, maxChunks);
        }

        int vocab = model.VocabularySize;
        int first = contextLength / 2;
        float[] logits = new float[contextLength * vocab];
        int[] chunk = new int[contextLength];
        var estimates = new List<double>(chunks);
        double nll = 0, nll2 = 0;
        int count = 0;
        using Session session = model.CreateSession(new SessionOptions { ContextLength = contextLength, BatchSize = Math.Min(batchSize, contextLength) });
        for (int c = 0; c < chunks; c++)
        {
            tokens.Slice(c * contextLength, contextLength).CopyTo(chunk);
            if (withBos)
            {
                chunk[0] = bos;
            }

            session.Reset();
            session.Evaluate(chunk, logits, cancellationToken);

            // Position j predicts chunk token j + 1 (the original stream's, never the BOS substitute).
            for (int j = first; j < contextLength - 1; j++)
            {
                double logProb = LogSoftmax(logits.AsSpan(j * vocab, vocab), tokens[(c * contextLength) + j + 1]);
                nll -= logProb;
                nll2 += logProb * logProb;
                count++;
            }

            double running = Math.Exp(nll / count);
            estimates.Add(running);
            onChunk?.Invoke(c + 1, running);
        }

        double mean = nll / count;
        double meanSquare = nll2 / count;
        double variance = meanSquare - (mean * mean);
        double ppl = Math.Exp(mean);
        double error = variance > 0 && count > 1 ? Math.Sqrt(variance / (count - 1)) * ppl : 0;
        return new PerplexityResult(ppl, error, chunks, count, estimates);
    }

    // As llama.cpp: float maximum, double sum of expf(l - max).
    private static double LogSoftmax(ReadOnlySpan<float> logits, int token)
    {
        float max = logits[0];
        for (int i = 1; i < logits.Length; i++)
        {
            max = MathF.Max(max, logits[i]);
        }

        double sum = 0;
        foreach (float l in logits)
        {
            sum += MathF.Exp(l - max);
        }

        return logits[token] - max - Math.Log(sum);
    }
}
