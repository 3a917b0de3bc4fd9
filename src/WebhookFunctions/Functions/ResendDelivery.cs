using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Functions;

public sealed class ResendDelivery(EventEndpoints endpoints)
{
    [Function(ApiOperations.ResendDelivery)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.ResendDelivery)] HttpRequest request, string applicationId, string webhookId, string eventId) =>
        endpoints.ResendAsync(request.HttpContext, applicationId, webhookId, eventId);
}
