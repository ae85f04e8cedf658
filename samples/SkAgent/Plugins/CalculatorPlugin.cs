using System.ComponentModel;
using System.Globalization;
using Microsoft.SemanticKernel;

namespace SkAgent.Plugins;

/// <summary>Arithmetic on numbers the model may not add up reliably.</summary>
public sealed class CalculatorPlugin
{
    /// <summary>Evaluates <paramref name="expression"/>: numbers, + - * /, parentheses.</summary>
    [KernelFunction("calculate")]
    [Description("Evaluate an arithmetic expression such as (2 + 3) * 4")]
    public static string Calculate([Description("The expression")] string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var parser = new ExpressionParser(expression);
        double value = parser.Parse();
        return value.ToString("G15", CultureInfo.InvariantCulture);
    }
}
