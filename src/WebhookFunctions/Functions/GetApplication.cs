using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Core.Tenancy;

namespace WebhookFunctions.Functions;

public sealed class GetApplication(TenancyEndpoints endpoints)
{
    [Function(ApiOperations.GetApplication)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Application)] HttpRequest request, string applicationId) =>
        endpoints.GetApplicationAsync(request.HttpContext, applicationId);
}
