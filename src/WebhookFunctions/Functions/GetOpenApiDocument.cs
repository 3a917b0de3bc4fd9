using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.OpenApi;

namespace WebhookFunctions.Functions;

public sealed class GetOpenApiDocument(OpenApiEndpoints endpoints)
{
    [Function(ApiOperations.GetOpenApiDocument)]
    public Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Routes.OpenApiDocument)] HttpRequest request) =>
        endpoints.GetAsync(request.HttpContext);
}
