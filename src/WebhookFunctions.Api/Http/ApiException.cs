using Microsoft.AspNetCore.Http;
using WebhookFunctions.Core.Failures;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// A failure that exists only at the HTTP edge (no key, a body too large or of the wrong type): the
/// domain never throws it. Messages are written for clients: never put a secret, a key or an internal
/// detail in one.
/// </summary>
public sealed class ApiException : Exception
{
    public ApiException(int statusCode, string? message = null, IReadOnlyList<ErrorDetail>? details = null)
        : base(message ?? ApiErrors.DefaultMessage(statusCode))
    {
        StatusCode = statusCode;
        Details = details is { Count: > 0 } ? details : null;
    }

    public ApiException() : this(StatusCodes.Status500InternalServerError)
    {
    }

    public ApiException(string message) : this(StatusCodes.Status500InternalServerError, message)
    {
    }

    public ApiException(string message, Exception innerException) : base(message, innerException)
    {
        StatusCode = StatusCodes.Status500InternalServerError;
    }

    public int StatusCode { get; }

    public IReadOnlyList<ErrorDetail>? Details { get; }

    public TimeSpan? RetryAfter { get; init; }

    public static ApiException BadRequest(params ErrorDetail[] details) =>
        new(StatusCodes.Status400BadRequest, null, details);

    public static ApiException Conflict(string message, params ErrorDetail[] details) =>
        new(StatusCodes.Status409Conflict, message, details);
}
