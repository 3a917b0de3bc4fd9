using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Auth;

namespace WebhookFunctions.Api.Auth;

/// <summary>
/// What every request passes before its handler, in both hosts: it begins the request's scope (its id
/// and its one deadline), and unless the operation is anonymous it must carry a valid key. Returns the
/// result to short-circuit with, or null to go on.
/// </summary>
public sealed class ApiGate(ApiKeyAuthenticator authenticator, ApiExecution execution)
{
    public async Task<IResult?> EnterAsync(HttpContext httpContext, string? operationName)
    {
        execution.Begin(httpContext);
        if (ApiOperations.IsAnonymous(operationName))
        {
            return null;
        }

        var result = await execution.RunAsync(httpContext, async cancellationToken =>
        {
            var authorization = httpContext.Request.Headers[HeaderNames.Authorization];
            var caller = await authenticator.AuthenticateAsync(authorization.Count == 1 ? authorization[0] : null, cancellationToken);
            if (caller is null)
            {
                return ApiResults.Error(StatusCodes.Status401Unauthorized);
            }

            CallerContext.Set(httpContext, caller);
            return Results.Empty;
        });
        return ReferenceEquals(result, Results.Empty) ? null : result;
    }
}
