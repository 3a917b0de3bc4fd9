using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Core.Tenancy;

namespace WebhookFunctions.Functions;

public sealed class ListApplications(TenancyEndpoints endpoints)
{
    [Function(ApiOperations.ListApplications)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Applications)] HttpRequest request) =>
        endpoints.ListApplicationsAsync(request.HttpContext);
}
