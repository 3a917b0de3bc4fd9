using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Standalone;

/// <summary>The route table, generated from the library's operation table: one endpoint per operation, named for its function.</summary>
public static class WebhookApiRoutes
{
    public static IEndpointRouteBuilder MapWebhookApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/" + Routes.Prefix);
        foreach (var operation in ApiOperations.All)
        {
            api.MapMethods(operation.Route, [operation.Method], operation.Handle).WithName(operation.Name);
        }

        return endpoints;
    }
}
