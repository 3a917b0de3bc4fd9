using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Core.Tenancy;

namespace WebhookFunctions.Functions;

public sealed class CreateApplication(TenancyEndpoints endpoints)
{
    [Function(ApiOperations.CreateApplication)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.Applications)] HttpRequest request) =>
        endpoints.CreateApplicationAsync(request.HttpContext);
}
