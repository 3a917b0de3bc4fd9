using System.Text.Json.Serialization;

namespace WebhookFunctions.Api.Webhooks;

public sealed record WebhookResponse(
    string Id,
    string ApplicationId,
    string Url,
    string? Description,
    bool IsActive,
    IReadOnlyList<string> SubscribedEvents,
    string KeyFingerprint,
    DateTimeOffset? LastTestAt,
    string? LastTestStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Present only in the create (and rotate) response.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SigningSecret { get; init; }
}

public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken);

public sealed record RotatedSecretResponse(string SigningSecret, string KeyFingerprint, DateTimeOffset PreviousSecretExpiresAt);
