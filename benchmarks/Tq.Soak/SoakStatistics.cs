namespace Tq.Soak;

/// <summary>Counts and latencies of the soak, overall and per report interval (thread-safe).</summary>
internal sealed class SoakStatistics
{
    private readonly object _lock = new();
    private readonly List<double> _all = [];
    private List<double> _interval = [];
    private readonly List<string> _errors = [];

    public int Requests { get; private set; }

    public int Errors { get; private set; }

    public int Cancelled { get; private set; }

    public int Disconnected { get; private set; }

    public int Refused { get; private set; }

    public IReadOnlyList<string> ErrorSamples
    {
        get
        {
            lock (_lock)
            {
                return [.. _errors];
            }
        }
    }

    public void Record(SoakKind kind, double milliseconds, string? problem)
    {
        lock (_lock)
        {
            Requests++;
            if (problem is not null)
            {
                Errors++;
                if (_errors.Count < 20)
                {
                    _errors.Add(problem);
                }

                return;
            }

            switch (kind)
            {
                case SoakKind.Cancel:
                    Cancelled++;
                    return;
                case SoakKind.Disconnect:
                    Disconnected++;
                    return;
                case SoakKind.Invalid:
                    Refused++;
                    return;
            }

            // Latency of the requests that ran to the end (chats, streams, tool calls).
            _all.Add(milliseconds);
            _interval.Add(milliseconds);
        }
    }

    public void NextInterval()
    {
        lock (_lock)
        {
            _interval = [];
        }
    }

    public double Percentile(double p, bool all)
    {
        lock (_lock)
        {
            List<double> source = all ? _all : _interval;
            if (source.Count == 0)
            {
                return 0;
            }

            double[] sorted = [.. source];
            Array.Sort(sorted);
            return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        }
    }
}
