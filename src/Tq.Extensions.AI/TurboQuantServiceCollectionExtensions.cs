using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tq.Extensions.AI;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers a local TurboQuant model as the application's <see cref="IChatClient"/>: the options (validated at
/// startup), a singleton <see cref="TurboQuantEngine"/> (the model, loaded once and shared) and the client, through
/// M.E.AI's <c>AddChatClient</c>, so the returned <see cref="ChatClientBuilder"/> adds middleware
/// (<c>.UseFunctionInvocation().UseOpenTelemetry().UseLogging()</c>).
/// </summary>
public static class TurboQuantServiceCollectionExtensions
{
    /// <summary>Registers the chat client with options set in code.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options (at least <see cref="TurboQuantChatOptions.ModelPath"/>).</param>
    /// <returns>The builder of the registered <see cref="IChatClient"/>.</returns>
    public static ChatClientBuilder AddTurboQuantChat(this IServiceCollection services, Action<TurboQuantChatOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return AddCore(services, null, builder => builder.Configure(configure));
    }

    /// <summary>Registers the chat client with options bound from a configuration section (e.g. <c>builder.Configuration.GetSection("TurboQuant")</c>).</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section whose keys are <see cref="TurboQuantChatOptions"/> property names.</param>
    /// <param name="configure">Adjusts the bound options; optional.</param>
    /// <returns>The builder of the registered <see cref="IChatClient"/>.</returns>
    public static ChatClientBuilder AddTurboQuantChat(this IServiceCollection services, IConfiguration configuration, Action<TurboQuantChatOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, null, builder => Bind(builder, configuration, configure));
    }

    /// <summary>Registers a keyed chat client (several models side by side) with options set in code.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The key of the client and its engine; its text also names the options.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder of the registered keyed <see cref="IChatClient"/>.</returns>
    public static ChatClientBuilder AddKeyedTurboQuantChat(this IServiceCollection services, object serviceKey, Action<TurboQuantChatOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configure);
        return AddCore(services, serviceKey, builder => builder.Configure(configure));
    }

    /// <summary>Registers a keyed chat client with options bound from a configuration section.</summary>
    /// <param name="services">The services.</param>
    /// <param name="serviceKey">The key of the client and its engine; its text also names the options.</param>
    /// <param name="configuration">The section whose keys are <see cref="TurboQuantChatOptions"/> property names.</param>
    /// <param name="configure">Adjusts the bound options; optional.</param>
    /// <returns>The builder of the registered keyed <see cref="IChatClient"/>.</returns>
    public static ChatClientBuilder AddKeyedTurboQuantChat(this IServiceCollection services, object serviceKey, IConfiguration configuration, Action<TurboQuantChatOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, serviceKey, builder => Bind(builder, configuration, configure));
    }

    /// <summary>
    /// Registers the <see cref="TurboQuantChatOptions"/> named <paramref name="optionsName"/> as <c>AddTurboQuantChat</c>
    /// does: validated when the host starts (every problem in one message), the shared
    /// <see cref="TurboQuantEngineRegistry"/>, and the loading at host start of the registry's engine for these options
    /// when they set <see cref="TurboQuantChatOptions.EagerLoad"/>. For integrations that register their own services
    /// over the engine (the Semantic Kernel connector does); get the engine with
    /// <see cref="TurboQuantEngineRegistry.GetOrCreate"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="optionsName">The name of the options (use a prefix of your own so they never merge with another registration's).</param>
    /// <returns>The options builder, to set (<c>Configure</c>) or bind (<c>Bind</c>) the options.</returns>
    public static OptionsBuilder<TurboQuantChatOptions> AddTurboQuantEngine(this IServiceCollection services, string optionsName)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(optionsName);
        OptionsBuilder<TurboQuantChatOptions> options = services.AddOptions<TurboQuantChatOptions>(optionsName);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TurboQuantChatOptions>, TurboQuantChatOptionsValidator>());
        services.TryAddSingleton<TurboQuantEngineRegistry>();
        services.AddSingleton<IHostedService>(sp => new TurboQuantEngineLoader(
            () => sp.GetRequiredService<IOptionsMonitor<TurboQuantChatOptions>>().Get(optionsName),
            () => CreateEngine(sp, optionsName)));
        return options;
    }

    private static TurboQuantEngine CreateEngine(IServiceProvider sp, string name) =>
        sp.GetRequiredService<TurboQuantEngineRegistry>().GetOrCreate(
            sp.GetRequiredService<IOptionsMonitor<TurboQuantChatOptions>>().Get(name), sp.GetService<ILoggerFactory>());

    private static void Bind(OptionsBuilder<TurboQuantChatOptions> builder, IConfiguration configuration, Action<TurboQuantChatOptions>? configure)
    {
        builder.Bind(configuration);
        if (configure is not null)
        {
            builder.Configure(configure);
        }
    }

    private static ChatClientBuilder AddCore(IServiceCollection services, object? serviceKey, Action<OptionsBuilder<TurboQuantChatOptions>> configureOptions)
    {
        // The engine comes from the registry, so a Semantic Kernel registration of the same model and settings shares it.
        string name = serviceKey?.ToString() ?? Options.Options.DefaultName;
        configureOptions(services.AddTurboQuantEngine(name));
        if (serviceKey is null)
        {
            services.TryAddSingleton(sp => CreateEngine(sp, name));
            return services.AddChatClient(sp => new TurboQuantChatClient(sp.GetRequiredService<TurboQuantEngine>()));
        }

        services.TryAddKeyedSingleton(serviceKey, (sp, _) => CreateEngine(sp, name));
        return services.AddKeyedChatClient(serviceKey, sp => new TurboQuantChatClient(sp.GetRequiredKeyedService<TurboQuantEngine>(serviceKey)));
    }
}
