using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Functions;

public sealed class ListAttempts(EventEndpoints endpoints)
{
    [Function(ApiOperations.ListAttempts)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Attempts)] HttpRequest request, string applicationId, string webhookId, string eventId) =>
        endpoints.ListAttemptsAsync(request.HttpContext, applicationId, webhookId, eventId);
}
