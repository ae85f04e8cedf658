using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Tq.Extensions.AI;

/// <summary>
/// Hands out one <see cref="TurboQuantEngine"/> per distinct set of options, so registrations that name the same
/// model file with the same settings (an M.E.AI <c>AddTurboQuantChat</c> and a Semantic Kernel
/// <c>AddTurboQuantChatCompletion</c>, say) share one loaded model and one session pool. Registered as a singleton by
/// both; it owns the engines it creates and disposes them with itself.
/// </summary>
/// <remarks>
/// Two option sets share an engine when every property of <see cref="TurboQuantChatOptions"/> is equal (the model
/// path compared as a full path): the sampling defaults are part of the engine, so options that differ only there
/// get their own engine. Safe to call concurrently.
/// </remarks>
public sealed class TurboQuantEngineRegistry : IDisposable
{
    private static readonly PropertyInfo[] s_properties = typeof(TurboQuantChatOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.GetIndexParameters().Length == 0)
        .OrderBy(p => p.Name, StringComparer.Ordinal)
        .ToArray();

    private readonly Dictionary<string, TurboQuantEngine> _engines = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private bool _disposed;

    /// <summary>How many distinct engines the registry holds.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _engines.Count;
            }
        }
    }

    /// <summary>Returns the engine for options equal to <paramref name="options"/>, creating it on first request.</summary>
    /// <param name="options">The model and serving options (validated when the engine is created).</param>
    /// <param name="loggerFactory">Receives the engine's load progress; used only when the engine is created.</param>
    /// <returns>The shared engine.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public TurboQuantEngine GetOrCreate(TurboQuantChatOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        string key = CreateKey(options);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_engines.TryGetValue(key, out TurboQuantEngine? engine))
            {
                // The options object is copied so a caller that changes its instance later cannot change the engine's.
                engine = new TurboQuantEngine(Copy(options), loggerFactory);
                _engines.Add(key, engine);
            }

            return engine;
        }
    }

    /// <summary>Disposes every engine the registry created.</summary>
    public void Dispose()
    {
        TurboQuantEngine[] engines;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            engines = [.. _engines.Values];
            _engines.Clear();
        }

        foreach (TurboQuantEngine engine in engines)
        {
            engine.Dispose();
        }
    }

    private static string CreateKey(TurboQuantChatOptions options)
    {
        var key = new StringBuilder();
        foreach (PropertyInfo property in s_properties)
        {
            object? value = property.GetValue(options);
            if (property.Name == nameof(TurboQuantChatOptions.ModelPath) && value is string path && File.Exists(path))
            {
                value = Path.GetFullPath(path);
            }

            key.Append(property.Name).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\u001f');
        }

        return key.ToString();
    }

    private static TurboQuantChatOptions Copy(TurboQuantChatOptions options)
    {
        var copy = new TurboQuantChatOptions();
        foreach (PropertyInfo property in s_properties)
        {
            if (property.CanWrite)
            {
                property.SetValue(copy, property.GetValue(options));
            }
        }

        return copy;
    }
}
