using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Functions;

public sealed class CreateWebhook(WebhookEndpoints endpoints)
{
    [Function(ApiOperations.CreateWebhook)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.Webhooks)] HttpRequest request, string applicationId) =>
        endpoints.CreateAsync(request.HttpContext, applicationId);
}
