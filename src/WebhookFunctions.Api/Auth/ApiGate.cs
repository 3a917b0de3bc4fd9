using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Limits;
using WebhookFunctions.Core.Auth;

namespace WebhookFunctions.Api.Auth;

/// <summary>
/// What every request passes before its handler, in both hosts: it begins the request's scope (its id
/// and its one deadline), holds the caller to the rate limits, and unless the operation is anonymous
/// requires a valid key. Returns the result to short-circuit with, or null to go on.
/// </summary>
public sealed class ApiGate(ApiKeyAuthenticator authenticator, ApiExecution execution, ApiRateLimits limits)
{
    public async Task<IResult?> EnterAsync(HttpContext httpContext, string? operationName)
    {
        execution.Begin(httpContext);
        var address = ClientAddress.Of(httpContext);
        if (ApiOperations.IsAnonymous(operationName))
        {
            // No key tells anonymous callers apart, so each request spends its address's allowance.
            return TooManyRequests(limits.SpendAddress(address));
        }

        // Before the key check: an address that has spent its allowance on failed keys is refused
        // without a lookup, so a spray of made-up keys costs no storage call.
        if (limits.CheckAddress(address) is { } exhausted)
        {
            return TooManyRequests(exhausted);
        }

        var result = await execution.RunAsync(httpContext, async cancellationToken =>
        {
            var authorization = httpContext.Request.Headers[HeaderNames.Authorization];
            var caller = await authenticator.AuthenticateAsync(authorization.Count == 1 ? authorization[0] : null, cancellationToken);
            if (caller is null)
            {
                return TooManyRequests(limits.SpendAddress(address)) ?? ApiResults.Error(StatusCodes.Status401Unauthorized);
            }

            if (TooManyRequests(limits.Admit(caller, operationName)) is { } refused)
            {
                return refused;
            }

            CallerContext.Set(httpContext, caller);
            return Results.Empty;
        });
        return ReferenceEquals(result, Results.Empty) ? null : result;
    }

    private static IResult? TooManyRequests(RateLimitRefusal? refusal) =>
        refusal is null ? null : ApiResults.Error(StatusCodes.Status429TooManyRequests, refusal.Message, retryAfter: refusal.RetryAfter);
}
