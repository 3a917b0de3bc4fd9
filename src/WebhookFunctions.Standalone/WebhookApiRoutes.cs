using WebhookFunctions.Api.Health;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.OpenApi;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Api.Webhooks;

namespace WebhookFunctions.Standalone;

/// <summary>The route table: each operation mapped to the same handler its Azure Function calls.</summary>
public static class WebhookApiRoutes
{
    public static IEndpointRouteBuilder MapWebhookApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/" + Routes.Prefix);

        api.MapPost(Routes.Webhooks, (HttpContext context, string applicationId, WebhookEndpoints handlers) =>
            handlers.CreateAsync(context, applicationId)).WithName(ApiOperations.CreateWebhook);
        api.MapGet(Routes.Webhooks, (HttpContext context, string applicationId, WebhookEndpoints handlers) =>
            handlers.ListAsync(context, applicationId)).WithName(ApiOperations.ListWebhooks);
        api.MapGet(Routes.Webhook, (HttpContext context, string applicationId, string webhookId, WebhookEndpoints handlers) =>
            handlers.GetAsync(context, applicationId, webhookId)).WithName(ApiOperations.GetWebhook);
        api.MapPatch(Routes.Webhook, (HttpContext context, string applicationId, string webhookId, WebhookEndpoints handlers) =>
            handlers.UpdateAsync(context, applicationId, webhookId)).WithName(ApiOperations.UpdateWebhook);
        api.MapDelete(Routes.Webhook, (HttpContext context, string applicationId, string webhookId, WebhookEndpoints handlers) =>
            handlers.DeleteAsync(context, applicationId, webhookId)).WithName(ApiOperations.DeleteWebhook);
        api.MapPost(Routes.RotateWebhookSecret, (HttpContext context, string applicationId, string webhookId, WebhookEndpoints handlers) =>
            handlers.RotateSecretAsync(context, applicationId, webhookId)).WithName(ApiOperations.RotateWebhookSecret);
        api.MapPost(Routes.TestWebhook, (HttpContext context, string applicationId, string webhookId, WebhookEndpoints handlers) =>
            handlers.TestAsync(context, applicationId, webhookId)).WithName(ApiOperations.TestWebhook);
        api.MapGet(Routes.EventTypes, (HttpContext context, WebhookEndpoints handlers) =>
            handlers.ListEventTypesAsync(context)).WithName(ApiOperations.ListEventTypes);
        api.MapPost(Routes.Applications, (HttpContext context, TenancyEndpoints handlers) =>
            handlers.CreateApplicationAsync(context)).WithName(ApiOperations.CreateApplication);
        api.MapGet(Routes.Applications, (HttpContext context, TenancyEndpoints handlers) =>
            handlers.ListApplicationsAsync(context)).WithName(ApiOperations.ListApplications);
        api.MapGet(Routes.Application, (HttpContext context, string applicationId, TenancyEndpoints handlers) =>
            handlers.GetApplicationAsync(context, applicationId)).WithName(ApiOperations.GetApplication);
        api.MapPost(Routes.ApiKeys, (HttpContext context, TenancyEndpoints handlers) =>
            handlers.CreateApiKeyAsync(context)).WithName(ApiOperations.CreateApiKey);
        api.MapGet(Routes.ApiKeys, (HttpContext context, TenancyEndpoints handlers) =>
            handlers.ListApiKeysAsync(context)).WithName(ApiOperations.ListApiKeys);
        api.MapDelete(Routes.ApiKey, (HttpContext context, string keyId, TenancyEndpoints handlers) =>
            handlers.RevokeApiKeyAsync(context, keyId)).WithName(ApiOperations.RevokeApiKey);
        api.MapGet(Routes.Health, (HttpContext context, HealthEndpoints handlers) =>
            handlers.GetAsync(context)).WithName(ApiOperations.Health);
        api.MapGet(Routes.OpenApiDocument, (HttpContext context, OpenApiEndpoints handlers) =>
            handlers.GetAsync(context)).WithName(ApiOperations.GetOpenApiDocument);

        return endpoints;
    }
}
