using Microsoft.AspNetCore.Http;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Api.Auth;

/// <summary>
/// What every request passes before its handler, in both hosts: it gets a request id, and unless the
/// operation is anonymous it must carry a valid key. Returns the result to short-circuit with, or
/// null to go on.
/// </summary>
public sealed class ApiGate(ApiKeyAuthenticator authenticator, ApiExecution execution)
{
    public async Task<IResult?> EnterAsync(HttpContext httpContext, string? operationName)
    {
        RequestIds.Assign(httpContext);
        if (ApiOperations.IsAnonymous(operationName))
        {
            return null;
        }

        var result = await execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = await authenticator.AuthenticateAsync(httpContext.Request, cancellationToken);
            if (caller is null)
            {
                return ApiResults.Error(StatusCodes.Status401Unauthorized);
            }

            Caller.Set(httpContext, caller);
            return Results.Empty;
        });
        return ReferenceEquals(result, Results.Empty) ? null : result;
    }
}
