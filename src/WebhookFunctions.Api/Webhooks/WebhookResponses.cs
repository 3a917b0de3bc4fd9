using System.Text.Json.Serialization;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Api.Webhooks;

public sealed record WebhookResponse(
    string Id,
    string ApplicationId,
    string Url,
    string? Description,
    bool IsActive,
    IReadOnlyList<string> SubscribedEvents,
    int? RateLimitPerSecond,
    string KeyFingerprint,
    DateTimeOffset? LastTestAt,
    string? LastTestStatus,
    string? DisabledReason,
    DateTimeOffset? DisabledAt,
    long SuccessCount,
    long FailureCount,
    DateTimeOffset? LastDeliveryAt,
    string? LastDeliveryStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string VerificationStatus,
    DateTimeOffset? VerifiedAt)
{
    /// <summary>Present only in the create (and rotate) response.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SigningSecret { get; init; }

    public static WebhookResponse From(Webhook webhook, DeliveryStats stats) => new(
        webhook.Id,
        webhook.ApplicationId,
        webhook.Url,
        webhook.Description,
        webhook.IsActive,
        webhook.SubscribedEvents,
        webhook.RateLimitPerSecond,
        webhook.KeyFingerprint,
        webhook.LastTestAt,
        webhook.LastTestStatus,
        webhook.DisabledReason,
        webhook.DisabledAt,
        stats.SuccessCount,
        stats.FailureCount,
        stats.LastDeliveryAt,
        stats.LastDeliveryStatus,
        webhook.CreatedAt,
        webhook.UpdatedAt,
        webhook.VerificationStatus,
        webhook.VerifiedAt);
}

public sealed record RotatedSecretResponse(string SigningSecret, string KeyFingerprint, DateTimeOffset PreviousSecretExpiresAt);
