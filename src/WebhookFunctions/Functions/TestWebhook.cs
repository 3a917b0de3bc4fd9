using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Functions;

public sealed class TestWebhook(WebhookEndpoints endpoints)
{
    [Function(ApiOperations.TestWebhook)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.TestWebhook)] HttpRequest request, string applicationId, string webhookId) =>
        endpoints.TestAsync(request.HttpContext, applicationId, webhookId);
}
