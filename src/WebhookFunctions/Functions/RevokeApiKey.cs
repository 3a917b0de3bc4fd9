using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Core.Tenancy;

namespace WebhookFunctions.Functions;

public sealed class RevokeApiKey(TenancyEndpoints endpoints)
{
    [Function(ApiOperations.RevokeApiKey)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Routes.ApiKey)] HttpRequest request, string keyId) =>
        endpoints.RevokeApiKeyAsync(request.HttpContext, keyId);
}
