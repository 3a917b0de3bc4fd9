using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Functions;

public sealed class ListEvents(EventEndpoints endpoints)
{
    [Function(ApiOperations.ListEvents)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Events)] HttpRequest request, string applicationId) =>
        endpoints.ListAsync(request.HttpContext, applicationId);
}
