using System.Net.Http;
using System.Net.Sockets;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// Runs one endpoint handler under the request deadline and turns every failure into the error
/// envelope: client errors as thrown, dependency failures as 502/503/504, anything else as a 500
/// that says nothing about internals.
/// </summary>
public sealed class ApiExecution(IOptions<ApiOptions> options, ILogger<ApiExecution> logger)
{
    private readonly TimeSpan _deadline = TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds);

    public async Task<IResult> RunAsync(HttpContext httpContext, Func<CancellationToken, Task<IResult>> handler)
    {
        RequestIds.Assign(httpContext);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted);
        deadline.CancelAfter(_deadline);
        try
        {
            return await handler(deadline.Token);
        }
        catch (Exception exception)
        {
            return Map(exception, httpContext, deadline.IsCancellationRequested && !httpContext.RequestAborted.IsCancellationRequested);
        }
    }

    public IResult Map(Exception exception, HttpContext httpContext, bool deadlineExpired)
    {
        switch (exception)
        {
            case ApiException api:
                return ApiResults.From(api);
            case BadHttpRequestException badRequest:
                // The client's own request broke while its body was read (a bad chunk, a body cut
                // short). It derives from IOException, so it must be caught before the 502 case.
                return ApiResults.Error(badRequest.StatusCode is >= 400 and < 500 ? badRequest.StatusCode : StatusCodes.Status400BadRequest);
            case OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested:
                // The client has gone; nobody will read this.
                return ApiResults.Error(499, "The client closed the request.");
            case OperationCanceledException:
            case TimeoutException:
                logger.LogWarning("Request {RequestId} exceeded its deadline (deadline expired: {DeadlineExpired})", RequestIds.Get(httpContext), deadlineExpired);
                return ApiResults.Error(StatusCodes.Status504GatewayTimeout);
            case RequestFailedException { Status: StatusCodes.Status429TooManyRequests } throttled:
                logger.LogWarning("Dependency throttled request {RequestId}: {ErrorCode}", RequestIds.Get(httpContext), throttled.ErrorCode);
                return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, retryAfter: RetryAfterOf(throttled));
            case RequestFailedException failed:
                logger.LogWarning("Dependency failed for request {RequestId}: {Status} {ErrorCode}", RequestIds.Get(httpContext), failed.Status, failed.ErrorCode);
                return ApiResults.Error(StatusCodes.Status502BadGateway);
            case HttpRequestException or SocketException or IOException or AggregateException { InnerException: RequestFailedException or HttpRequestException }:
                logger.LogWarning("Dependency unreachable for request {RequestId}: {ExceptionType}", RequestIds.Get(httpContext), exception.GetType().Name);
                return ApiResults.Error(StatusCodes.Status502BadGateway);
            case Azure.Identity.AuthenticationFailedException or Azure.Identity.CredentialUnavailableException:
                logger.LogError("Credential for a dependency failed on request {RequestId}", RequestIds.Get(httpContext));
                return ApiResults.Error(StatusCodes.Status502BadGateway);
            default:
                logger.LogError(exception, "Unhandled error on request {RequestId}", RequestIds.Get(httpContext));
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
