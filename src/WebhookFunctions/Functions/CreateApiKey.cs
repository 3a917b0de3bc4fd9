using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Core.Tenancy;

namespace WebhookFunctions.Functions;

public sealed class CreateApiKey(TenancyEndpoints endpoints)
{
    [Function(ApiOperations.CreateApiKey)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.ApiKeys)] HttpRequest request) =>
        endpoints.CreateApiKeyAsync(request.HttpContext);
}
