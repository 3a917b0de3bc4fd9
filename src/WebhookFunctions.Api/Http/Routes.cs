namespace WebhookFunctions.Api.Http;

/// <summary>
/// Route templates shared by both hosts. They are relative to <see cref="Prefix"/>, which the
/// Functions host adds through host.json's routePrefix and the standalone host through a route group.
/// </summary>
public static class Routes
{
    public const string Prefix = "api";

    public const string Webhooks = "v1/applications/{applicationId}/webhooks";
    public const string Webhook = "v1/applications/{applicationId}/webhooks/{webhookId}";
    public const string RotateWebhookSecret = Webhook + "/rotate-secret";
    public const string TestWebhook = Webhook + "/test";
    public const string VerifyWebhook = Webhook + "/verify";

    /// <summary>The link a webhook's challenge carries; <c>Core.Verification.VerificationLinks</c> builds it under <see cref="Prefix"/>.</summary>
    public const string Verification = "v1/verifications/{token}";
    public const string EventTypes = "v1/event-types";
    public const string Events = "v1/applications/{applicationId}/events";
    public const string Event = "v1/applications/{applicationId}/events/{eventId}";
    public const string Deliveries = Webhook + "/deliveries";
    public const string Attempts = Webhook + "/deliveries/{eventId}/attempts";
    public const string ResendDelivery = Webhook + "/deliveries/{eventId}/resend";
    public const string RecoverDeliveries = Webhook + "/recover";
    public const string Job = "v1/jobs/{jobId}";
    public const string Applications = "v1/applications";
    public const string Application = "v1/applications/{applicationId}";
    public const string ApiKeys = "v1/api-keys";
    public const string ApiKey = "v1/api-keys/{keyId}";
    public const string Health = "health";
    public const string OpenApiDocument = "openapi.json";
}
