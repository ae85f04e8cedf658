using SkAgent;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

return await SkAgentApp.RunAsync(args, Console.In, Console.Out, cancellation.Token).ConfigureAwait(false);
