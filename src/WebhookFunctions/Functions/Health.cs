using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Health;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Functions;

public sealed class Health(HealthEndpoints endpoints)
{
    [Function(ApiOperations.Health)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Health)] HttpRequest request) =>
        endpoints.GetAsync(request.HttpContext);
}
