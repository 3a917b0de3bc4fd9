using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Functions;

public sealed class UpdateWebhook(WebhookEndpoints endpoints)
{
    [Function(ApiOperations.UpdateWebhook)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Routes.Webhook)] HttpRequest request, string applicationId, string webhookId) =>
        endpoints.UpdateAsync(request.HttpContext, applicationId, webhookId);
}
