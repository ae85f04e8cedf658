using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tq.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps OpenAI-compatible endpoints over an <see cref="IChatClient"/> from the application's services.</summary>
public static class OpenAIEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>POST {prefix}/chat/completions</c> (non-streaming and server-sent events, tools, <c>tool_choice</c>,
    /// <c>response_format</c>, <c>stream_options.include_usage</c>), <c>GET {prefix}/models</c> and
    /// <c>GET {prefix}/models/{id}</c> over the registered <see cref="IChatClient"/>. Every invalid request is answered
    /// with a 4xx OpenAI error object (<c>message</c>, <c>type</c>, <c>param</c>, <c>code</c>); nothing in the body is
    /// silently ignored.
    /// </summary>
    /// <param name="endpoints">The application or a route group.</param>
    /// <param name="configure">Sets the route prefix or the key of the chat client; optional.</param>
    /// <returns>The group of the mapped endpoints (to add authorization, rate limiting, ...).</returns>
    public static RouteGroupBuilder MapOpenAIChatCompletions(this IEndpointRouteBuilder endpoints, Action<OpenAIEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = new OpenAIEndpointOptions();
        configure?.Invoke(options);
        options.Validate();

        IServiceProvider services = endpoints.ServiceProvider;
        var handler = new Lazy<OpenAIChatCompletionsHandler>(() => new OpenAIChatCompletionsHandler(
            options.ChatClientKey is null ? services.GetRequiredService<IChatClient>() : services.GetRequiredKeyedService<IChatClient>(options.ChatClientKey),
            services.GetService<ILoggerFactory>()?.CreateLogger("Tq.AspNetCore.OpenAIChatCompletions") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        RouteGroupBuilder group = endpoints.MapGroup(options.RoutePrefix);
        group.MapPost("/chat/completions", (HttpContext context) => handler.Value.HandleAsync(context));
        group.MapGet("/models", (HttpContext context) =>
        {
            string? id = handler.Value.ModelId;
            var list = new System.Text.Json.Nodes.JsonObject
            {
                ["object"] = "list",
                ["data"] = id is null ? new System.Text.Json.Nodes.JsonArray() : new System.Text.Json.Nodes.JsonArray(OpenAIResponses.Model(id, created)),
            };
            return OpenAIChatCompletionsHandler.WriteJsonAsync(context.Response, list, context.RequestAborted);
        });
        group.MapGet("/models/{id}", (HttpContext context, string id) =>
        {
            if (handler.Value.ModelId is { } served && string.Equals(id, served, StringComparison.OrdinalIgnoreCase))
            {
                return OpenAIChatCompletionsHandler.WriteJsonAsync(context.Response, OpenAIResponses.Model(served, created), context.RequestAborted);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return OpenAIChatCompletionsHandler.WriteJsonAsync(context.Response, OpenAIResponses.Error($"The model '{id}' does not exist.", "invalid_request_error", "model", "model_not_found"), context.RequestAborted);
        });
        return group;
    }
}
