using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Functions;

public sealed class ListWebhooks(WebhookEndpoints endpoints)
{
    [Function(ApiOperations.ListWebhooks)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Webhooks)] HttpRequest request, string applicationId) =>
        endpoints.ListAsync(request.HttpContext, applicationId);
}
