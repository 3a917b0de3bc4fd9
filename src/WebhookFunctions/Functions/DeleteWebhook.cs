using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Functions;

public sealed class DeleteWebhook(WebhookEndpoints endpoints)
{
    [Function(ApiOperations.DeleteWebhook)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Routes.Webhook)] HttpRequest request, string applicationId, string webhookId) =>
        endpoints.DeleteAsync(request.HttpContext, applicationId, webhookId);
}
