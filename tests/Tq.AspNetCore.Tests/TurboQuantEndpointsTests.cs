using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tq.Extensions.AI;

namespace Tq.AspNetCore.Tests;

/// <summary><c>MapTurboQuantEndpoints</c>: the OpenAI endpoints, <c>/health</c> and <c>/metrics</c> in one call.</summary>
public sealed class TurboQuantEndpointsTests : IClassFixture<EndpointServer>
{
    private readonly EndpointServer _server;

    public TurboQuantEndpointsTests(EndpointServer server) => _server = server;

    public static TheoryData<string, string, string?, string> Routes => new()
    {
        // method, path, body, expected in the answer
        { "POST", "v1/chat/completions", """{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}""", "\"object\":\"chat.completion\"" },
        { "GET", "v1/models", null, $"\"id\":\"{EndpointServer.ModelId}\"" },
        { "GET", $"v1/models/{EndpointServer.ModelId}", null, "\"object\":\"model\"" },
        { "GET", "health", null, "\"status\":\"ok\"" },
        { "GET", "metrics", null, $"tq_model_loaded{{model=\"{EndpointServer.ModelId}\"}} 1" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task MapTurboQuantEndpoints_EveryRoute_Answers(string method, string path, string? body, string expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await _server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();

        Assert.True(response.IsSuccessStatusCode, $"{method} /{path}: {(int)response.StatusCode} {text}");
        Assert.Contains(expected, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MapTurboQuantEndpoints_RoutePrefix_MovesOnlyTheOpenAIEndpoints()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddTurboQuantChat(o => o.ModelPath = "never-loaded.gguf");
        await using WebApplication app = builder.Build();

        app.MapTurboQuantEndpoints(o => o.RoutePrefix = "/openai");

        string[] routes = [.. ((IEndpointRouteBuilder)app).DataSources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText!).Order(StringComparer.Ordinal)];
        Assert.Equal(["/health", "/metrics", "/openai/chat/completions", "/openai/models", "/openai/models/{id}"], routes);
    }
}
