using System.ComponentModel;
using Microsoft.SemanticKernel;

namespace SkAgent.Plugins;

/// <summary>Arithmetic the model should not do in its head.</summary>
public sealed class CalculatorPlugin
{
    /// <summary>Adds two numbers.</summary>
    [KernelFunction("add")]
    [Description("Add two numbers")]
    public static double Add([Description("The first number")] double a, [Description("The second number")] double b) => a + b;
}
