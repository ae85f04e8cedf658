using System.ComponentModel;
using System.Globalization;
using Microsoft.SemanticKernel;

namespace SkAgent.Plugins;

/// <summary>The current date and time.</summary>
public sealed class TimePlugin(TimeProvider timeProvider)
{
    /// <summary>The current UTC time; the city is echoed, not resolved to a time zone.</summary>
    [KernelFunction("get_time")]
    [Description("Get the current time")]
    public string GetTime([Description("The city name")] string? city = null)
    {
        string now = timeProvider.GetUtcNow().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        return string.IsNullOrWhiteSpace(city) ? now : $"{now} (the time zone of {city} is not known to this plugin)";
    }
}
