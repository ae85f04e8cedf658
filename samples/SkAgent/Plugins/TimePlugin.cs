using System.ComponentModel;
using System.Globalization;
using Microsoft.SemanticKernel;

namespace SkAgent.Plugins;

/// <summary>The current date and time.</summary>
public sealed class TimePlugin(TimeProvider timeProvider)
{
    /// <summary>The current UTC time.</summary>
    [KernelFunction("get_time")]
    [Description("Get the current UTC date and time")]
    public string GetTime() => timeProvider.GetUtcNow().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
