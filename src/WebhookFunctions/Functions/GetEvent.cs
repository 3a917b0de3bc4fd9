using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Functions;

public sealed class GetEvent(EventEndpoints endpoints)
{
    [Function(ApiOperations.GetEvent)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Event)] HttpRequest request, string applicationId, string eventId) =>
        endpoints.GetAsync(request.HttpContext, applicationId, eventId);
}
