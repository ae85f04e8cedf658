namespace Tq.Cli.Hub;

/// <summary>How far a download is.</summary>
/// <param name="BytesReceived">The bytes of the file on disk so far, resumed bytes included.</param>
/// <param name="TotalBytes">The file size when the server said it, otherwise null.</param>
/// <param name="ResumedFrom">The byte offset this transfer resumed from (0 for a fresh start).</param>
internal readonly record struct ModelDownloadProgress(long BytesReceived, long? TotalBytes, long ResumedFrom);
