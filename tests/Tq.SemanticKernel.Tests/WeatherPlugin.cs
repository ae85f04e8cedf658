using System.ComponentModel;
using Microsoft.SemanticKernel;

namespace Tq.SemanticKernel.Tests;

/// <summary>A kernel function the model calls; it records each call.</summary>
public sealed class WeatherPlugin
{
    public const string Report = "sunny, 21 degrees";

    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    [KernelFunction("get_weather")]
    [Description("Get the current weather in a city")]
    public string GetWeather([Description("The city name")] string city)
    {
        Interlocked.Increment(ref _calls);
        return Report;
    }
}
