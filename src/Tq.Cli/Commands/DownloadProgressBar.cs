using System.Diagnostics;
using Tq.Cli.Hub;
using Tq.Core.Hub;

namespace Tq.Cli.Commands;

/// <summary>A one-line progress bar on stderr, redrawn at most ten times a second (only the last line when stderr is redirected).</summary>
internal sealed class DownloadProgressBar(TextWriter output, string name) : IProgress<ModelDownloadProgress>, IDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private ModelDownloadProgress _last;
    private long _lastDrawn = -1;
    private bool _drawn;

    public void Report(ModelDownloadProgress value)
    {
        _last = value;
        long now = _clock.ElapsedMilliseconds;
        if (_interactive && (_lastDrawn < 0 || now - _lastDrawn >= 100 || value.BytesReceived == value.TotalBytes))
        {
            _lastDrawn = now;
            output.Write('\r' + Line(value));
            _drawn = true;
        }
    }

    public void Finish()
    {
        if (_drawn || (!_interactive && _last.BytesReceived > 0))
        {
            output.Write((_interactive ? "\r" : string.Empty) + Line(_last) + Environment.NewLine);
        }

        _drawn = false;
    }

    public void Dispose() => _clock.Stop();

    private string Line(ModelDownloadProgress p)
    {
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
        string rate = InfoCommand.FormatBytes((long)((p.BytesReceived - p.ResumedFrom) / seconds)) + "/s";
        string resumed = p.ResumedFrom > 0 ? $", resumed at {InfoCommand.FormatBytes(p.ResumedFrom)}" : string.Empty;
        if (p.TotalBytes is not long total || total <= 0)
        {
            return $"{name} {InfoCommand.FormatBytes(p.BytesReceived)} {rate}{resumed}";
        }

        double fraction = Math.Clamp(p.BytesReceived / (double)total, 0, 1);
        int filled = (int)(fraction * 30);
        return string.Create(CultureInfo.InvariantCulture,
            $"{name} [{new string('#', filled)}{new string('.', 30 - filled)}] {fraction * 100,5:F1}% {InfoCommand.FormatBytes(p.BytesReceived)} / {InfoCommand.FormatBytes(total)} {rate}{resumed}  ");
    }
}
