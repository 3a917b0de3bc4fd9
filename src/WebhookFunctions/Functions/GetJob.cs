using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Jobs;

namespace WebhookFunctions.Functions;

public sealed class GetJob(JobEndpoints endpoints)
{
    [Function(ApiOperations.GetJob)]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.Job)] HttpRequest request, string jobId) =>
        endpoints.GetAsync(request.HttpContext, jobId);
}
