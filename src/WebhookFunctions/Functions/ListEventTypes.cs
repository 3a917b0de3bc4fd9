using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Functions;

public sealed class ListEventTypes(WebhookEndpoints endpoints)
{
    [Function(ApiOperations.ListEventTypes)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.EventTypes)] HttpRequest request) =>
        endpoints.ListEventTypesAsync(request.HttpContext);
}
