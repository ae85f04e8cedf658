namespace Tq.AspNetCore;

/// <summary>Options of <c>MapOpenAIChatCompletions</c>.</summary>
public sealed class OpenAIEndpointOptions
{
    /// <summary>The route prefix of the endpoints (default <c>/v1</c>: <c>/v1/chat/completions</c>, <c>/v1/models</c>).</summary>
    public string RoutePrefix { get; set; } = "/v1";

    /// <summary>The key of a keyed <see cref="Microsoft.Extensions.AI.IChatClient"/> registration to serve; null serves the default one.</summary>
    public object? ChatClientKey { get; set; }

    /// <summary>Checks the options; called when the endpoints are mapped.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate()
    {
        if (string.IsNullOrEmpty(RoutePrefix) || RoutePrefix[0] != '/' || (RoutePrefix.Length > 1 && RoutePrefix[^1] == '/'))
        {
            throw new ArgumentException($"OpenAIEndpointOptions.RoutePrefix must start with '/' and not end with one; got '{RoutePrefix}'.");
        }
    }
}
