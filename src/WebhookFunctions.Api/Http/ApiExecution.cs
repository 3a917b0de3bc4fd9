using System.Net.Http;
using System.Net.Sockets;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core;
using WebhookFunctions.Core.Failures;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// The HTTP edge: runs a handler under the request's one deadline and turns every failure into the
/// error envelope. Domain failures map to their statuses here and nowhere else; dependency failures
/// become 502/503/504; anything else is a 500 that says nothing about internals.
/// </summary>
public sealed class ApiExecution(IOptions<ApiOptions> options, ILogger<ApiExecution> logger)
{
    private readonly TimeSpan _deadline = TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds);

    /// <summary>The request's id and deadline, begun at most once per request whichever host code gets there first.</summary>
    public RequestScope Begin(HttpContext httpContext) => RequestScope.Begin(httpContext, _deadline);

    public async Task<IResult> RunAsync(HttpContext httpContext, Func<CancellationToken, Task<IResult>> handler)
    {
        var scope = Begin(httpContext);
        try
        {
            return await handler(scope.Token);
        }
        catch (Exception exception)
        {
            return Map(exception, httpContext, scope);
        }
    }

    private IResult Map(Exception exception, HttpContext httpContext, RequestScope scope)
    {
        switch (exception)
        {
            case ApiException api:
                return ApiResults.From(api);
            case ValidationException invalid:
                return ApiResults.Error(StatusCodes.Status400BadRequest, details: invalid.Details);
            case NotFoundException notFound:
                return ApiResults.Error(StatusCodes.Status404NotFound, notFound.Message);
            case ForbiddenException forbidden:
                return ApiResults.Error(StatusCodes.Status403Forbidden, forbidden.Message);
            case ConflictException conflict:
                return ApiResults.Error(StatusCodes.Status409Conflict, conflict.Message, conflict.Details, conflict.RetryAfter);
            case PreconditionFailedException:
                return ApiResults.Error(StatusCodes.Status412PreconditionFailed);
            case DependencyUnavailableException unavailable:
                logger.LogWarning("Dependency unavailable for request {RequestId}: {Reason}", scope.RequestId, unavailable.Message);
                return ApiResults.Error(StatusCodes.Status502BadGateway);
            case DependencyTimeoutException timedOut:
                logger.LogWarning("Dependency timed out for request {RequestId}: {Reason}", scope.RequestId, timedOut.Message);
                return ApiResults.Error(StatusCodes.Status504GatewayTimeout);
            case BadHttpRequestException badRequest:
                // The client's own request broke while its body was read (a bad chunk, a body cut
                // short). It derives from IOException, so it must be caught before the 502 case.
                return ApiResults.Error(badRequest.StatusCode is >= 400 and < 500 ? badRequest.StatusCode : StatusCodes.Status400BadRequest);
            case OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested:
                // The client has gone; nobody will read this.
                return ApiResults.Error(499, "The client closed the request.");
            case OperationCanceledException:
            case TimeoutException:
            // The storage client's own verdict after every try timed out: "Retry failed after N tries".
            case AggregateException { InnerExceptions: var tries } when tries.All(e => e is OperationCanceledException or TimeoutException):
                logger.LogWarning("Request {RequestId} exceeded its deadline (deadline expired: {DeadlineExpired})", scope.RequestId, scope.DeadlineExpired);
                return ApiResults.Error(StatusCodes.Status504GatewayTimeout);
            case RequestFailedException { Status: StatusCodes.Status429TooManyRequests } throttled:
                logger.LogWarning("Dependency throttled request {RequestId}: {ErrorCode}", scope.RequestId, throttled.ErrorCode);
                return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, retryAfter: RetryAfterOf(throttled));
            case RequestFailedException failed:
                logger.LogWarning("Dependency failed for request {RequestId}: {Status} {ErrorCode}", scope.RequestId, failed.Status, failed.ErrorCode);
                return ApiResults.Error(StatusCodes.Status502BadGateway);
            case HttpRequestException or SocketException or IOException or AggregateException { InnerException: RequestFailedException or HttpRequestException }:
                logger.LogWarning("Dependency unreachable for request {RequestId}: {ExceptionType}", scope.RequestId, exception.GetType().Name);
                return ApiResults.Error(StatusCodes.Status502BadGateway);
            case Azure.Identity.AuthenticationFailedException or Azure.Identity.CredentialUnavailableException:
                logger.LogError("Credential for a dependency failed on request {RequestId}", scope.RequestId);
                return ApiResults.Error(StatusCodes.Status502BadGateway);
            default:
                logger.LogError(exception, "Unhandled error on request {RequestId}", scope.RequestId);
                return ApiResults.Error(StatusCodes.Status500InternalServerError);
        }
    }

    private static TimeSpan RetryAfterOf(RequestFailedException exception)
    {
        var raw = exception.GetRawResponse();
        if (raw is not null && raw.Headers.TryGetValue("Retry-After", out var value)
            && int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and < 3600)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return TimeSpan.FromSeconds(1);
    }
}
