using Microsoft.Extensions.Hosting;

namespace Tq.Extensions.AI;

/// <summary>Loads an engine when the host starts, for registrations with <see cref="TurboQuantChatOptions.EagerLoad"/>.</summary>
internal sealed class TurboQuantEngineLoader(Func<TurboQuantChatOptions> options, Func<TurboQuantEngine> engine) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options().EagerLoad ? Task.Run(() => engine().Load(), cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
