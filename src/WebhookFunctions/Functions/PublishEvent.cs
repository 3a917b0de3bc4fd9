using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Functions;

public sealed class PublishEvent(EventEndpoints endpoints)
{
    [Function(ApiOperations.PublishEvent)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.Events)] HttpRequest request, string applicationId) =>
        endpoints.PublishAsync(request.HttpContext, applicationId);
}
