using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Health;
using WebhookFunctions.Api.Jobs;
using WebhookFunctions.Api.OpenApi;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Api.Verification;
using WebhookFunctions.Api.Webhooks;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// One operation of the HTTP contract: its function name, method, route, and the handler both hosts
/// run. The standalone host maps <see cref="Handle"/> directly; each Azure Function calls the same
/// endpoint method with its bound route values.
/// </summary>
public sealed record ApiOperation(string Name, string Method, string Route, Func<HttpContext, Task<IResult>> Handle, bool Anonymous = false);

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
    public const string PublishEvent = nameof(PublishEvent);
    public const string ListEvents = nameof(ListEvents);
    public const string GetEvent = nameof(GetEvent);
    public const string ListDeliveries = nameof(ListDeliveries);
    public const string ListAttempts = nameof(ListAttempts);
    public const string ResendDelivery = nameof(ResendDelivery);
    public const string RecoverDeliveries = nameof(RecoverDeliveries);
    public const string GetJob = nameof(GetJob);
    public const string VerifyWebhook = nameof(VerifyWebhook);
    public const string ConfirmVerification = nameof(ConfirmVerification);
    public const string Health = nameof(Health);
    public const string GetOpenApiDocument = nameof(GetOpenApiDocument);

    public static IReadOnlyList<ApiOperation> All { get; } =
    [
        new(CreateWebhook, "POST", Routes.Webhooks, c => Webhooks(c).CreateAsync(c, Route(c, "applicationId"))),
        new(ListWebhooks, "GET", Routes.Webhooks, c => Webhooks(c).ListAsync(c, Route(c, "applicationId"))),
        new(GetWebhook, "GET", Routes.Webhook, c => Webhooks(c).GetAsync(c, Route(c, "applicationId"), Route(c, "webhookId"))),
        new(UpdateWebhook, "PATCH", Routes.Webhook, c => Webhooks(c).UpdateAsync(c, Route(c, "applicationId"), Route(c, "webhookId"))),
        new(DeleteWebhook, "DELETE", Routes.Webhook, c => Webhooks(c).DeleteAsync(c, Route(c, "applicationId"), Route(c, "webhookId"))),
        new(RotateWebhookSecret, "POST", Routes.RotateWebhookSecret, c => Webhooks(c).RotateSecretAsync(c, Route(c, "applicationId"), Route(c, "webhookId"))),
        new(TestWebhook, "POST", Routes.TestWebhook, c => Webhooks(c).TestAsync(c, Route(c, "applicationId"), Route(c, "webhookId"))),
        new(ListEventTypes, "GET", Routes.EventTypes, c => Webhooks(c).ListEventTypesAsync(c)),
        new(CreateApplication, "POST", Routes.Applications, c => Tenancy(c).CreateApplicationAsync(c)),
        new(ListApplications, "GET", Routes.Applications, c => Tenancy(c).ListApplicationsAsync(c)),
        new(GetApplication, "GET", Routes.Application, c => Tenancy(c).GetApplicationAsync(c, Route(c, "applicationId"))),
        new(CreateApiKey, "POST", Routes.ApiKeys, c => Tenancy(c).CreateApiKeyAsync(c)),
        new(ListApiKeys, "GET", Routes.ApiKeys, c => Tenancy(c).ListApiKeysAsync(c)),
        new(RevokeApiKey, "DELETE", Routes.ApiKey, c => Tenancy(c).RevokeApiKeyAsync(c, Route(c, "keyId"))),
        new(PublishEvent, "POST", Routes.Events, c => Events(c).PublishAsync(c, Route(c, "applicationId"))),
        new(ListEvents, "GET", Routes.Events, c => Events(c).ListAsync(c, Route(c, "applicationId"))),
        new(GetEvent, "GET", Routes.Event, c => Events(c).GetAsync(c, Route(c, "applicationId"), Route(c, "eventId"))),
        new(ListDeliveries, "GET", Routes.Deliveries, c => Events(c).ListDeliveriesAsync(c, Route(c, "applicationId"), Route(c, "webhookId"))),
        new(ListAttempts, "GET", Routes.Attempts,
            c => Events(c).ListAttemptsAsync(c, Route(c, "applicationId"), Route(c, "webhookId"), Route(c, "eventId"))),
        new(ResendDelivery, "POST", Routes.ResendDelivery,
            c => Events(c).ResendAsync(c, Route(c, "applicationId"), Route(c, "webhookId"), Route(c, "eventId"))),
        new(RecoverDeliveries, "POST", Routes.RecoverDeliveries, c => Jobs(c).RecoverAsync(c, Route(c, "applicationId"), Route(c, "webhookId"))),
        new(GetJob, "GET", Routes.Job, c => Jobs(c).GetAsync(c, Route(c, "jobId"))),
        new(VerifyWebhook, "POST", Routes.VerifyWebhook, c => Verifications(c).RequestAsync(c, Route(c, "applicationId"), Route(c, "webhookId"))),
        new(ConfirmVerification, "GET", Routes.Verification, c => Verifications(c).ConfirmAsync(c, Route(c, "token")), Anonymous: true),
        new(Health, "GET", Routes.Health, c => c.RequestServices.GetRequiredService<HealthEndpoints>().GetAsync(c), Anonymous: true),
        new(GetOpenApiDocument, "GET", Routes.OpenApiDocument, c => c.RequestServices.GetRequiredService<OpenApiEndpoints>().GetAsync(c), Anonymous: true),
    ];

    public static bool IsAnonymous(string? operationName) =>
        All.Any(o => o.Anonymous && string.Equals(o.Name, operationName, StringComparison.Ordinal));

    private static WebhookEndpoints Webhooks(HttpContext context) => context.RequestServices.GetRequiredService<WebhookEndpoints>();

    private static VerificationEndpoints Verifications(HttpContext context) => context.RequestServices.GetRequiredService<VerificationEndpoints>();

    private static EventEndpoints Events(HttpContext context) => context.RequestServices.GetRequiredService<EventEndpoints>();

    private static JobEndpoints Jobs(HttpContext context) => context.RequestServices.GetRequiredService<JobEndpoints>();

    private static TenancyEndpoints Tenancy(HttpContext context) => context.RequestServices.GetRequiredService<TenancyEndpoints>();

    private static string Route(HttpContext context, string name) => context.Request.RouteValues[name] as string ?? string.Empty;
}
