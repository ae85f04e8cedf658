using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Tq.AspNetCore;

/// <summary>
/// <c>POST /v1/chat/completions</c> over an <see cref="IChatClient"/>: validates the body (<see cref="OpenAIChatRequest"/>),
/// runs the request and writes either one <c>chat.completion</c> or server-sent <c>chat.completion.chunk</c> events.
/// Every refusal is a 4xx OpenAI error object, logged at Information without a stack trace; a client that disconnects
/// cancels its generation (the token is checked before every generated token) and frees its session.
/// </summary>
internal sealed class OpenAIChatCompletionsHandler(IChatClient chat, ILogger logger)
{
    private static readonly JsonSerializerOptions s_wire = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonDocumentOptions s_document = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// <summary>The id the client serves (from its <see cref="ChatClientMetadata"/>), or null when it does not say.</summary>
    public string? ModelId { get; } = chat.GetService<ChatClientMetadata>()?.DefaultModelId;

    public async Task HandleAsync(HttpContext context)
    {
        CancellationToken aborted = context.RequestAborted;
        OpenAIChatRequest request;
        try
        {
            request = OpenAIChatRequest.Parse(await ReadBodyAsync(context.Request, aborted).ConfigureAwait(false));
            if (request.Model is { } model && ModelId is not null && !string.Equals(model, ModelId, StringComparison.OrdinalIgnoreCase))
            {
                throw new OpenAIRequestException($"The model '{model}' does not exist; this server serves '{ModelId}'.", "model", "model_not_found", StatusCodes.Status404NotFound);
            }
        }
        catch (OpenAIRequestException e)
        {
            await RejectAsync(context, e).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }

        IAsyncEnumerator<ChatResponseUpdate> updates = chat.GetStreamingResponseAsync(request.Messages, request.Options, aborted).GetAsyncEnumerator(aborted);
        try
        {
            bool any;
            try
            {
                any = await updates.MoveNextAsync().ConfigureAwait(false); // request errors surface here, before the response starts
            }
            catch (Exception e) when (OpenAIErrors.ForClient(e) is { } error)
            {
                await RejectAsync(context, error).ConfigureAwait(false);
                return;
            }

            if (request.Stream)
            {
                await StreamAsync(context, request, updates, any, aborted).ConfigureAwait(false);
                return;
            }

            var collected = new List<ChatResponseUpdate>();
            while (any)
            {
                collected.Add(updates.Current);
                any = await updates.MoveNextAsync().ConfigureAwait(false);
            }

            ChatResponse response = collected.ToChatResponse();
            await WriteJsonAsync(context.Response, OpenAIResponses.Completion(response, request.Model ?? ModelId ?? string.Empty), aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            OpenAIEndpointLog.Disconnected(logger);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            if (OpenAIErrors.ForClient(e) is { } error)
            {
                await RejectAsync(context, error).ConfigureAwait(false);
                return;
            }

            OpenAIEndpointLog.Failed(logger, e);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await WriteJsonAsync(context.Response, OpenAIResponses.Error("The server had an error while processing your request.", "server_error", null, null), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await updates.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<JsonNode?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // Read whole (Kestrel bounds the size) so the text can be checked as UTF-8 before any string is decoded from it.
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        ReadOnlyMemory<byte> body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            throw new OpenAIRequestException("We could not parse the JSON body of your request: it is not valid UTF-8.", null, "invalid_json");
        }

        try
        {
            return JsonNode.Parse(body.Span, documentOptions: s_document);
        }
        catch (JsonException e)
        {
            throw new OpenAIRequestException(
                $"We could not parse the JSON body of your request: {OpenAIErrors.Clean(e.Message)}",
                null,
                "invalid_json");
        }
    }

    private async Task StreamAsync(HttpContext context, OpenAIChatRequest request, IAsyncEnumerator<ChatResponseUpdate> updates, bool any, CancellationToken cancellationToken)
    {
        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        bool first = true;
        int toolIndex = 0;
        UsageDetails? usage = null;
        string id = string.Empty, model = request.Model ?? ModelId ?? string.Empty;
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        try
        {
            while (any)
            {
                ChatResponseUpdate update = updates.Current;
                id = update.ResponseId ?? id;
                model = update.ModelId ?? model;
                created = (update.CreatedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
                var delta = new JsonObject();
                if (first)
                {
                    delta["role"] = "assistant";
                    first = false;
                }

                string text = update.Text;
                if (text.Length > 0)
                {
                    delta["content"] = text;
                }

                JsonArray? calls = null;
                foreach (AIContent content in update.Contents)
                {
                    switch (content)
                    {
                        case FunctionCallContent call:
                            JsonObject node = OpenAIResponses.ToolCall(call);
                            node.Insert(0, "index", toolIndex++);
                            (calls ??= []).Add((JsonNode)node);
                            break;
                        case UsageContent u:
                            usage = u.Details;
                            break;
                    }
                }

                if (calls is not null)
                {
                    delta["tool_calls"] = calls;
                }

                if (delta.Count > 0 || update.FinishReason is not null)
                {
                    string? finish = update.FinishReason is null ? null : OpenAIResponses.FinishReason(update.FinishReason, toolIndex > 0);
                    await WriteEventAsync(response, OpenAIResponses.Chunk(id, created, model, delta, finish is null ? null : new ChatFinishReason(finish), request.IncludeUsage), cancellationToken).ConfigureAwait(false);
                }

                any = await updates.MoveNextAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The status line is sent: the error goes in the stream, as OpenAI does, and the stream ends.
            OpenAIRequestException? error = OpenAIErrors.ForClient(e);
            if (error is null)
            {
                OpenAIEndpointLog.Failed(logger, e);
            }
            else
            {
                OpenAIEndpointLog.Rejected(logger, error.Status, error.Message);
            }

            JsonObject body = error is null
                ? OpenAIResponses.Error("The server had an error while processing your request.", "server_error", null, null)
                : OpenAIResponses.Error(error.Message, error.Type, error.Param, error.Code);
            await WriteEventAsync(response, body, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (request.IncludeUsage && usage is not null)
        {
            JsonObject chunk = OpenAIResponses.Chunk(id, created, model, null, null, usageField: false);
            chunk["usage"] = OpenAIResponses.Usage(usage);
            await WriteEventAsync(response, chunk, cancellationToken).ConfigureAwait(false);
        }

        await response.WriteAsync("data: [DONE]\n\n", cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RejectAsync(HttpContext context, OpenAIRequestException error)
    {
        OpenAIEndpointLog.Rejected(logger, error.Status, error.Message);
        context.Response.StatusCode = error.Status;
        await WriteJsonAsync(context.Response, OpenAIResponses.Error(error.Message, error.Type, error.Param, error.Code), context.RequestAborted).ConfigureAwait(false);
    }

    internal static Task WriteJsonAsync(HttpResponse response, JsonObject body, CancellationToken cancellationToken)
    {
        response.ContentType = "application/json";
        return response.WriteAsync(body.ToJsonString(s_wire), cancellationToken);
    }

    private static async Task WriteEventAsync(HttpResponse response, JsonObject chunk, CancellationToken cancellationToken)
    {
        await response.WriteAsync("data: " + chunk.ToJsonString(s_wire) + "\n\n", cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
