namespace Tq.Core.Tokenization;

/// <summary>
/// The merge queue an encoder reuses between words (llama.cpp's <c>llm_bigram_*</c> priority queue), owned by the
/// encoder instance: one call at a time takes the kept queue, so encoding allocates nothing per word in steady state;
/// a concurrent call or a long input gets a queue of its own, so no thread and no encoder keeps a huge queue alive.
/// </summary>
/// <typeparam name="T">The bigram, which is also its own priority.</typeparam>
internal sealed class EncoderQueue<T>(IComparer<T> order)
{
    // Longer inputs get their own queue (sized for them) that is dropped afterwards.
    private const int ReusedLimit = 4096;

    private PriorityQueue<T, T>? _kept;

    /// <summary>An empty queue for <paramref name="symbols"/> symbols.</summary>
    public PriorityQueue<T, T> Rent(int symbols)
    {
        if (symbols > ReusedLimit)
        {
            return new PriorityQueue<T, T>(symbols, order);
        }

        return Interlocked.Exchange(ref _kept, null) ?? new PriorityQueue<T, T>(order);
    }

    /// <summary>Gives back a queue from <see cref="Rent"/> for <paramref name="symbols"/> symbols, emptied.</summary>
    public void Return(PriorityQueue<T, T> queue, int symbols)
    {
        if (symbols <= ReusedLimit)
        {
            queue.Clear();
            Volatile.Write(ref _kept, queue);
        }
    }
}
