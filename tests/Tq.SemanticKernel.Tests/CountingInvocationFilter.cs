using Microsoft.SemanticKernel;

namespace Tq.SemanticKernel.Tests;

/// <summary>An auto-function-invocation filter that counts the calls it sees (proves SK's filters run).</summary>
internal sealed class CountingInvocationFilter : IAutoFunctionInvocationFilter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public async Task OnAutoFunctionInvocationAsync(AutoFunctionInvocationContext context, Func<AutoFunctionInvocationContext, Task> next)
    {
        Interlocked.Increment(ref _count);
        await next(context);
    }
}
