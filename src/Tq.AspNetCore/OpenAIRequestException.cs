namespace Tq.AspNetCore;

/// <summary>
/// A request the endpoint refuses, carrying what OpenAI's error object says about it: the HTTP status, a message
/// meant for the caller (never a .NET internal), the offending parameter and a machine-readable code.
/// </summary>
internal sealed class OpenAIRequestException : Exception
{
    public OpenAIRequestException(string message, string? param, string code, int status = StatusCodes.Status400BadRequest, string type = "invalid_request_error")
        : base(message)
    {
        Param = param;
        Code = code;
        Status = status;
        Type = type;
    }

    public OpenAIRequestException()
        : this("The request is invalid.", null, "invalid_request")
    {
    }

    public OpenAIRequestException(string message)
        : this(message, null, "invalid_request")
    {
    }

    public OpenAIRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = "invalid_request";
        Status = StatusCodes.Status400BadRequest;
        Type = "invalid_request_error";
    }

    /// <summary>The HTTP status of the answer (400 unless said otherwise).</summary>
    public int Status { get; }

    /// <summary>The request parameter at fault, as a JSON path (<c>messages[2].role</c>), or null.</summary>
    public string? Param { get; }

    /// <summary>The error code (<c>invalid_type</c>, <c>invalid_value</c>, <c>context_length_exceeded</c>, ...).</summary>
    public string Code { get; }

    /// <summary>The error type (<c>invalid_request_error</c> for the caller's mistakes).</summary>
    public string Type { get; }
}
