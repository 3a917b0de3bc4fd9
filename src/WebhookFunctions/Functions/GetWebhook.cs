using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Functions;

public sealed class GetWebhook(WebhookEndpoints endpoints)
{
    [Function(ApiOperations.GetWebhook)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Webhook)] HttpRequest request, string applicationId, string webhookId) =>
        endpoints.GetAsync(request.HttpContext, applicationId, webhookId);
}
