using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Verification;

namespace WebhookFunctions.Functions;

/// <summary>The verification link: anonymous, like Health; the token in the route is the only credential.</summary>
public sealed class ConfirmVerification(VerificationEndpoints endpoints)
{
    [Function(ApiOperations.ConfirmVerification)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Verification)] HttpRequest request, string token) =>
        endpoints.ConfirmAsync(request.HttpContext, token);
}
