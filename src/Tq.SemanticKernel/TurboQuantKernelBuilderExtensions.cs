using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Tq.Extensions.AI;
using Tq.SemanticKernel;

namespace Microsoft.SemanticKernel;

/// <summary>Adds a local TurboQuant model to a Semantic Kernel <see cref="IKernelBuilder"/>.</summary>
public static class TurboQuantKernelBuilderExtensions
{
    /// <summary>
    /// Adds TurboQuant chat completion (an <see cref="ChatCompletion.IChatCompletionService"/> and an
    /// <see cref="Extensions.AI.IChatClient"/> with SK function invocation) for the model in the options.
    /// </summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="configure">Sets the model and engine options (at least <see cref="TurboQuantChatOptions.ModelPath"/>).</param>
    /// <param name="serviceId">The SK service id; null registers the default service.</param>
    /// <param name="configureContext">Sets the context-overflow policy; optional (default: throw).</param>
    /// <returns>The builder, for chaining.</returns>
    public static IKernelBuilder AddTurboQuantChatCompletion(
        this IKernelBuilder builder,
        Action<TurboQuantChatOptions> configure,
        string? serviceId = null,
        Action<TurboQuantContextOptions>? configureContext = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddTurboQuantChatCompletion(configure, serviceId, configureContext);
        return builder;
    }

    /// <summary>Adds TurboQuant chat completion with options bound from a configuration section.</summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="configuration">The section, e.g. <c>configuration.GetSection("TurboQuant")</c>.</param>
    /// <param name="serviceId">The SK service id; null registers the default service.</param>
    /// <param name="configureContext">Adjusts the bound context options; optional.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IKernelBuilder AddTurboQuantChatCompletion(
        this IKernelBuilder builder,
        IConfiguration configuration,
        string? serviceId = null,
        Action<TurboQuantContextOptions>? configureContext = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddTurboQuantChatCompletion(configuration, serviceId, configureContext);
        return builder;
    }
}
