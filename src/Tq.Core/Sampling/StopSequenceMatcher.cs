using System.Text;

namespace Tq.Core.Sampling;

/// <summary>
/// Finds stop strings in streamed text. Text that could be the start of a stop string is held back until it is
/// known not to be one, so a caller never shows the user part of a stop string. The one stop matcher: the CLI's
/// <c>run</c> and the chat client's generation loop both use it.
/// </summary>
internal sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private readonly StringBuilder _pending = new();

    /// <summary>Creates a matcher for <paramref name="stops"/> (empty strings are ignored).</summary>
    public StopSequenceMatcher(IEnumerable<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        _stops = [.. stops.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>True once a stop string has been seen.</summary>
    public bool Stopped { get; private set; }

    /// <summary>
    /// Adds a piece of generated text and returns the text that is safe to show: everything before a stop string
    /// (after which <see cref="Stopped"/> is true and further text is ignored), minus any tail that may begin one.
    /// </summary>
    public string Append(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (Stopped)
        {
            return string.Empty;
        }

        if (_stops.Length == 0)
        {
            return piece; // nothing is ever held back
        }

        _pending.Append(piece);

        string text = _pending.ToString();
        int stopAt = -1;
        foreach (string stop in _stops)
        {
            int i = text.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (stopAt < 0 || i < stopAt))
            {
                stopAt = i;
            }
        }

        if (stopAt >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return text[..stopAt];
        }

        // Hold back the longest suffix that is a prefix of some stop string.
        int hold = 0;
        foreach (string stop in _stops)
        {
            for (int n = Math.Min(stop.Length - 1, text.Length); n > hold; n--)
            {
                if (text.AsSpan(text.Length - n).SequenceEqual(stop.AsSpan(0, n)))
                {
                    hold = n;
                    break;
                }
            }
        }

        return Take(text.Length - hold);
    }

    /// <summary>Returns the held-back text at the end of generation (empty after a stop).</summary>
    public string Flush() => Stopped ? string.Empty : Take(_pending.Length);

    /// <summary>Forgets held text and the stopped state.</summary>
    public void Reset()
    {
        _pending.Clear();
        Stopped = false;
    }

    private string Take(int length)
    {
        string result = _pending.ToString(0, length);
        _pending.Remove(0, length);
        return result;
    }
}
