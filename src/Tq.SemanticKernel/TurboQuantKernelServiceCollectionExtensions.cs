using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;
using Tq.Extensions.AI;
using Tq.SemanticKernel;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers a local TurboQuant model for Semantic Kernel: a <see cref="TurboQuantChatCompletionService"/> as
/// <see cref="IChatCompletionService"/> and its client pipeline (with <c>UseKernelFunctionInvocation()</c>) as
/// <see cref="IChatClient"/>, both keyed by the service id (unkeyed when it is null).
/// </summary>
/// <remarks>
/// The engine comes from the <see cref="TurboQuantEngineRegistry"/> singleton that <c>AddTurboQuantChat</c> uses too,
/// so registrations with equal <see cref="TurboQuantChatOptions"/> (same model file, cache and sampling settings)
/// share one loaded model. (Named <c>TurboQuantKernelServiceCollectionExtensions</c> because
/// <c>Tq.Extensions.AI</c> already has a <c>TurboQuantServiceCollectionExtensions</c> in this namespace.)
/// </remarks>
public static class TurboQuantKernelServiceCollectionExtensions
{
    private const string OptionsNamePrefix = "Tq.SemanticKernel:";

    /// <summary>Registers TurboQuant chat completion with options set in code.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the model and engine options (at least <see cref="TurboQuantChatOptions.ModelPath"/>).</param>
    /// <param name="serviceId">The SK service id (the key of both registrations); null registers them unkeyed.</param>
    /// <param name="configureContext">Sets the context-overflow policy; optional (default: throw).</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddTurboQuantChatCompletion(
        this IServiceCollection services,
        Action<TurboQuantChatOptions> configure,
        string? serviceId = null,
        Action<TurboQuantContextOptions>? configureContext = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return AddCore(services, serviceId, builder => builder.Configure(configure), null, configureContext);
    }

    /// <summary>
    /// Registers TurboQuant chat completion with options bound from a configuration section: the
    /// <see cref="TurboQuantChatOptions"/> keys, and <c>OverflowPolicy</c> / <c>ReservedOutputTokens</c> of
    /// <see cref="TurboQuantContextOptions"/>, side by side in the same section.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section, e.g. <c>configuration.GetSection("TurboQuant")</c>.</param>
    /// <param name="serviceId">The SK service id; null registers unkeyed.</param>
    /// <param name="configureContext">Adjusts the bound context options (e.g. sets a <see cref="TurboQuantContextOptions.Reducer"/>); optional.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddTurboQuantChatCompletion(
        this IServiceCollection services,
        IConfiguration configuration,
        string? serviceId = null,
        Action<TurboQuantContextOptions>? configureContext = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddCore(services, serviceId, builder => builder.Bind(configuration), configuration, configureContext);
    }

    private static IServiceCollection AddCore(
        IServiceCollection services,
        string? serviceId,
        Action<OptionsBuilder<TurboQuantChatOptions>> configureOptions,
        IConfiguration? configuration,
        Action<TurboQuantContextOptions>? configureContext)
    {
        // Named apart from AddTurboQuantChat's options, so the two registrations never merge their settings.
        string name = OptionsNamePrefix + serviceId;
        configureOptions(services.AddTurboQuantEngine(name));

        OptionsBuilder<TurboQuantContextOptions> context = services.AddOptions<TurboQuantContextOptions>(name);
        if (configuration is not null)
        {
            context.Bind(configuration);
        }

        if (configureContext is not null)
        {
            context.Configure(configureContext);
        }

        services.AddKeyedSingleton(serviceId, (sp, _) =>
        {
            ILoggerFactory? loggerFactory = sp.GetService<ILoggerFactory>();
            TurboQuantEngine engine = sp.GetRequiredService<TurboQuantEngineRegistry>().GetOrCreate(
                sp.GetRequiredService<IOptionsMonitor<TurboQuantChatOptions>>().Get(name), loggerFactory);
            return new TurboQuantChatCompletionService(engine, sp.GetRequiredService<IOptionsMonitor<TurboQuantContextOptions>>().Get(name), loggerFactory, sp);
        });
        services.AddKeyedSingleton<IChatCompletionService>(serviceId, (sp, _) => sp.GetRequiredKeyedService<TurboQuantChatCompletionService>(serviceId));
        services.AddKeyedSingleton(serviceId, (sp, _) => sp.GetRequiredKeyedService<TurboQuantChatCompletionService>(serviceId).ChatClient);
        return services;
    }
}
