namespace Tq.Core.Models;

/// <summary>How a model is loaded and run.</summary>
public sealed class ModelOptions
{
    /// <summary>Threads for matrix products and attention, the caller included; 0 (default) uses every core.</summary>
    public int Threads { get; set; }

    /// <summary>
    /// The most tokens one forward pass of the scheduler takes across all sessions (asynchronous evaluations are
    /// batched: llama-server's <c>n_ubatch</c>); default 512.
    /// </summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative thread count or a non-positive batch size.</exception>
    public void Validate()
    {
        if (Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "The thread count cannot be negative (0 means every core).");
        }

        if (BatchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be positive.");
        }
    }
}
