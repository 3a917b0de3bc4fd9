using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Verification;

namespace WebhookFunctions.Functions;

public sealed class VerifyWebhook(VerificationEndpoints endpoints)
{
    [Function(ApiOperations.VerifyWebhook)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.VerifyWebhook)] HttpRequest request, string applicationId, string webhookId) =>
        endpoints.RequestAsync(request.HttpContext, applicationId, webhookId);
}
