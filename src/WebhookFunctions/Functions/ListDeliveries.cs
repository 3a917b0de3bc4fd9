using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Functions;

public sealed class ListDeliveries(EventEndpoints endpoints)
{
    [Function(ApiOperations.ListDeliveries)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Deliveries)] HttpRequest request, string applicationId, string webhookId) =>
        endpoints.ListDeliveriesAsync(request.HttpContext, applicationId, webhookId);
}
