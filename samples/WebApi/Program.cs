// An ASP.NET Core minimal API over a local model: POST /api/chat, a streaming POST /api/chat/stream, and the
// OpenAI-compatible endpoints of Tq.AspNetCore (POST /v1/chat/completions, GET /v1/models) for existing OpenAI
// clients, plus /health and Prometheus /metrics.
//   dotnet run --project samples/WebApi
using Microsoft.Extensions.AI;
using TqConnector.Samples;
using TqConnector.Samples.WebApi;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services
    .AddTurboQuantChat(builder.Configuration.GetSection("TurboQuant"), o => o.ModelPath = SampleModels.Resolve(o.ModelPath))
    .UseOpenTelemetry();

WebApplication app = builder.Build();

app.MapGet("/", (IChatClient chat) => Results.Ok(new { model = chat.GetService<ChatClientMetadata>()?.DefaultModelId, endpoints = "POST /api/chat, POST /api/chat/stream, POST /v1/chat/completions, GET /v1/models, GET /health, GET /metrics" }));

app.MapPost("/api/chat", async (SampleChatRequest request, IChatClient chat, CancellationToken cancellationToken) =>
{
    if (request.Validate() is string error)
    {
        return Results.BadRequest(new { error });
    }

    ChatResponse response = await chat.GetResponseAsync(request.ToMessages(), cancellationToken: cancellationToken);
    return Results.Ok(new { text = response.Text, finishReason = response.FinishReason?.Value, usage = response.Usage });
});

app.MapPost("/api/chat/stream", async (SampleChatRequest request, IChatClient chat, HttpContext context) =>
{
    if (request.Validate() is string error)
    {
        await Results.BadRequest(new { error }).ExecuteAsync(context);
        return;
    }

    context.Response.ContentType = "text/plain; charset=utf-8";
    await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync(request.ToMessages(), cancellationToken: context.RequestAborted))
    {
        await context.Response.WriteAsync(update.Text, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
});

// POST /v1/chat/completions, GET /v1/models, GET /health, GET /metrics.
app.MapTurboQuantEndpoints();

app.Run();

/// <summary>The entry point (public so <c>WebApplicationFactory&lt;Program&gt;</c> can host the app in tests).</summary>
public partial class Program;
