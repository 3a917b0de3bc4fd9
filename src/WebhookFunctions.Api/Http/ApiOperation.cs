namespace WebhookFunctions.Api.Http;

/// <summary>One operation of the HTTP contract: its function name, method and route.</summary>
public sealed record ApiOperation(string Name, string Method, string Route, bool Anonymous = false);

/// <summary>
/// The operations this build serves. Both hosts must expose exactly this set; the tests compare
/// each host against it.
/// </summary>
public static class ApiOperations
{
    public const string CreateWebhook = nameof(CreateWebhook);
    public const string ListWebhooks = nameof(ListWebhooks);
    public const string GetWebhook = nameof(GetWebhook);
    public const string UpdateWebhook = nameof(UpdateWebhook);
    public const string DeleteWebhook = nameof(DeleteWebhook);
    public const string RotateWebhookSecret = nameof(RotateWebhookSecret);
    public const string TestWebhook = nameof(TestWebhook);
    public const string ListEventTypes = nameof(ListEventTypes);
    public const string CreateApplication = nameof(CreateApplication);
    public const string ListApplications = nameof(ListApplications);
    public const string GetApplication = nameof(GetApplication);
    public const string CreateApiKey = nameof(CreateApiKey);
    public const string ListApiKeys = nameof(ListApiKeys);
    public const string RevokeApiKey = nameof(RevokeApiKey);
    public const string Health = nameof(Health);
    public const string GetOpenApiDocument = nameof(GetOpenApiDocument);

    public static IReadOnlyList<ApiOperation> All { get; } =
    [
        new(CreateWebhook, "POST", Routes.Webhooks),
        new(ListWebhooks, "GET", Routes.Webhooks),
        new(GetWebhook, "GET", Routes.Webhook),
        new(UpdateWebhook, "PATCH", Routes.Webhook),
        new(DeleteWebhook, "DELETE", Routes.Webhook),
        new(RotateWebhookSecret, "POST", Routes.RotateWebhookSecret),
        new(TestWebhook, "POST", Routes.TestWebhook),
        new(ListEventTypes, "GET", Routes.EventTypes),
        new(CreateApplication, "POST", Routes.Applications),
        new(ListApplications, "GET", Routes.Applications),
        new(GetApplication, "GET", Routes.Application),
        new(CreateApiKey, "POST", Routes.ApiKeys),
        new(ListApiKeys, "GET", Routes.ApiKeys),
        new(RevokeApiKey, "DELETE", Routes.ApiKey),
        new(Health, "GET", Routes.Health, Anonymous: true),
        new(GetOpenApiDocument, "GET", Routes.OpenApiDocument, Anonymous: true),
    ];

    public static bool IsAnonymous(string? operationName) =>
        All.Any(o => o.Anonymous && string.Equals(o.Name, operationName, StringComparison.Ordinal));
}
