using System.Text;

namespace Tq.Extensions.AI;

/// <summary>
/// Cuts streamed text at the first stop sequence. A tail that may be the start of a stop sequence is held back until
/// the next piece decides, so the caller never sees any part of a stop sequence.
/// </summary>
internal sealed class StopSequenceFilter(IReadOnlyList<string> stops)
{
    private readonly StringBuilder _pending = new();

    /// <summary>Whether a stop sequence was found (nothing more will be emitted).</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a decoded piece; returns the text that is certainly before any stop sequence.</summary>
    public string Append(string piece)
    {
        if (Stopped || piece.Length == 0)
        {
            return string.Empty;
        }

        if (stops.Count == 0)
        {
            return piece;
        }

        _pending.Append(piece);
        string text = _pending.ToString();
        int cut = -1;
        foreach (string stop in stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
            {
                cut = at;
            }
        }

        if (cut >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return text[..cut];
        }

        int hold = 0;
        foreach (string stop in stops)
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

        _pending.Clear().Append(text, text.Length - hold, hold);
        return text[..^hold];
    }

    /// <summary>Returns the held-back text at the end of the output.</summary>
    public string Flush()
    {
        string rest = Stopped ? string.Empty : _pending.ToString();
        _pending.Clear();
        return rest;
    }
}
