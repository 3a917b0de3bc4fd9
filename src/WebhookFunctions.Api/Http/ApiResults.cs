using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Serialization;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// Results that serialize with <see cref="ApiJson.Options"/>, so both hosts write identical bodies.
/// </summary>
public static class ApiResults
{
    /// <summary>Set on a response that repeats an earlier one for the same <c>Idempotency-Key</c>.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    public static IResult Ok<T>(T body, string? etag = null) => new JsonBodyResult<T>(StatusCodes.Status200OK, body, etag, null);

    public static IResult Created<T>(string location, T body, string? etag = null) =>
        new JsonBodyResult<T>(StatusCodes.Status201Created, body, etag, location);

    public static IResult Accepted<T>(string location, T body) =>
        new JsonBodyResult<T>(StatusCodes.Status202Accepted, body, null, location);

    /// <summary>An earlier result of the same request, found by a key the client chose (an externalId): 200 and <c>Idempotent-Replayed</c>.</summary>
    public static IResult Replayed<T>(T body, string location) =>
        new JsonBodyResult<T>(StatusCodes.Status200OK, body, null, location, Replayed: true);

    public static IResult Json<T>(int statusCode, T body) => new JsonBodyResult<T>(statusCode, body, null, null);

    /// <summary>An earlier response, repeated as it was first sent.</summary>
    public static IResult Replayed(int statusCode, JsonNode body, string? etag, string? location) =>
        new JsonBodyResult<JsonNode>(statusCode, body, etag, location, Replayed: true);

    /// <summary>
    /// The same result with <c>Cache-Control: no-store</c>, for a body that carries a secret or a key:
    /// no cache on the way may keep it. A result with no body to protect is returned as it is.
    /// </summary>
    public static IResult NoStore(IResult result) => result is IJsonBodyResult json ? json.WithNoStore() : result;

    public static IResult NoContent() => TypedResults.NoContent();

    public static IResult Error(int statusCode, string? message = null, IReadOnlyList<ErrorDetail>? details = null, TimeSpan? retryAfter = null) =>
        new ErrorResult(statusCode, message ?? ApiErrors.DefaultMessage(statusCode), details, retryAfter);

    public static IResult From(ApiException exception) =>
        new ErrorResult(exception.StatusCode, exception.Message, exception.Details, exception.RetryAfter);

    private sealed class JsonBodyResult<T>(int statusCode, T body, string? etag, string? location, bool Replayed = false, bool NoStore = false)
        : IJsonBodyResult, IStatusCodeHttpResult
    {
        public int? StatusCode => statusCode;

        int IJsonBodyResult.StatusCode => statusCode;

        public string? ETag => etag;

        public string? Location => location;

        public JsonNode? ToJsonNode() => JsonSerializer.SerializeToNode(body, ApiJson.Options);

        public IResult WithNoStore() => new JsonBodyResult<T>(statusCode, body, etag, location, Replayed, NoStore: true);

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = statusCode;
            response.ContentType = "application/json; charset=utf-8";
            if (etag is not null)
            {
                response.Headers[HeaderNames.ETag] = etag;
            }

            if (location is not null)
            {
                response.Headers[HeaderNames.Location] = location;
            }

            if (Replayed)
            {
                response.Headers[ReplayedHeader] = "true";
            }

            if (NoStore)
            {
                response.Headers[HeaderNames.CacheControl] = "no-store";
            }

            await JsonSerializer.SerializeAsync(response.Body, body, ApiJson.Options, httpContext.RequestAborted);
        }
    }

    private sealed class ErrorResult(int statusCode, string message, IReadOnlyList<ErrorDetail>? details, TimeSpan? retryAfter)
        : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => statusCode;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = statusCode;
            response.ContentType = "application/json; charset=utf-8";
            if (statusCode == StatusCodes.Status401Unauthorized)
            {
                response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
            }

            if (retryAfter is { } delay)
            {
                response.Headers[HeaderNames.RetryAfter] = ((int)Math.Ceiling(delay.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            var error = new ApiError(ApiErrors.Title(statusCode), message, statusCode, details, RequestScope.IdOf(httpContext));
            await JsonSerializer.SerializeAsync(response.Body, error, ApiJson.Options, CancellationToken.None);
        }
    }
}

/// <summary>A success result whose body can be captured, as the idempotency record needs.</summary>
internal interface IJsonBodyResult : IResult
{
    int StatusCode { get; }

    string? ETag { get; }

    string? Location { get; }

    JsonNode? ToJsonNode();

    IResult WithNoStore();
}
