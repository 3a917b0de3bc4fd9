using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Jobs;

namespace WebhookFunctions.Functions;

public sealed class RecoverDeliveries(JobEndpoints endpoints)
{
    [Function(ApiOperations.RecoverDeliveries)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.RecoverDeliveries)] HttpRequest request, string applicationId, string webhookId) =>
        endpoints.RecoverAsync(request.HttpContext, applicationId, webhookId);
}
