using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace WebhookFunctions.Api.Http;

/// <summary>Status texts and the default client-facing message for each error status.</summary>
public static class ApiErrors
{
    public const string BadGatewayMessage = "A downstream dependency responded with an error or could not be reached.";
    public const string GatewayTimeoutMessage = "A downstream dependency did not respond in time.";
    public const string UnauthorizedMessage = "A valid API key is required. Send it as 'Authorization: Bearer <key>'.";

    public static string DefaultMessage(int statusCode) => statusCode switch
    {
        StatusCodes.Status400BadRequest => "The request contains invalid parameters or malformed data",
        StatusCodes.Status401Unauthorized => UnauthorizedMessage,
        StatusCodes.Status403Forbidden => "The resource belongs to another merchant.",
        StatusCodes.Status404NotFound => "The resource does not exist.",
        StatusCodes.Status405MethodNotAllowed => "The method is not allowed on this resource.",
        StatusCodes.Status408RequestTimeout => "The request body did not arrive before the request deadline; send it without pauses.",
        StatusCodes.Status409Conflict => "The request conflicts with the current state of the resource.",
        StatusCodes.Status412PreconditionFailed => "The resource has changed since the ETag in If-Match was issued.",
        StatusCodes.Status413PayloadTooLarge => $"The request body is larger than {RequestBody.MaxBytes} bytes.",
        StatusCodes.Status415UnsupportedMediaType => "The request body must be sent with Content-Type: application/json.",
        StatusCodes.Status429TooManyRequests => "Too many requests. Retry after the number of seconds in Retry-After.",
        StatusCodes.Status502BadGateway => BadGatewayMessage,
        StatusCodes.Status503ServiceUnavailable => "A downstream dependency is throttling requests; retry later.",
        StatusCodes.Status504GatewayTimeout => GatewayTimeoutMessage,
        _ => "An unexpected error occurred.",
    };

    public static string Title(int statusCode) => statusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => "Payload Too Large",
        _ => ReasonPhrases.GetReasonPhrase(statusCode) is { Length: > 0 } phrase ? phrase : "Error",
    };
}
