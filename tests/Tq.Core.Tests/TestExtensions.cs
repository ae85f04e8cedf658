namespace Tq.Core.Tests;

internal static class TestExtensions
{
    /// <summary>Applies a function to a value, for fluent test data.</summary>
    public static TResult Let<T, TResult>(this T value, Func<T, TResult> f) => f(value);
}
