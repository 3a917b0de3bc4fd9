using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Core.Tenancy;

namespace WebhookFunctions.Functions;

public sealed class ListApiKeys(TenancyEndpoints endpoints)
{
    [Function(ApiOperations.ListApiKeys)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.ApiKeys)] HttpRequest request) =>
        endpoints.ListApiKeysAsync(request.HttpContext);
}
