using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Functions;

public sealed class RotateWebhookSecret(WebhookEndpoints endpoints)
{
    [Function(ApiOperations.RotateWebhookSecret)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.RotateWebhookSecret)] HttpRequest request, string applicationId, string webhookId) =>
        endpoints.RotateSecretAsync(request.HttpContext, applicationId, webhookId);
}
