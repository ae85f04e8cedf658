namespace Tq.Core.Models;

/// <summary>How a model is loaded and run.</summary>
public sealed class ModelOptions
{
    /// <summary>Threads for matrix products and attention, the caller included; 0 (default) uses every core.</summary>
    public int Threads { get; set; }

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative thread count.</exception>
    public void Validate()
    {
        if (Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "The thread count cannot be negative (0 means every core).");
        }
    }
}
