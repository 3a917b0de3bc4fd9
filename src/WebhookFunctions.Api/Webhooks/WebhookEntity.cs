using Azure;
using Azure.Data.Tables;

namespace WebhookFunctions.Api.Webhooks;

/// <summary>
/// A webhook row in <c>Webhooks</c>: PK merchantId, RK <c>{applicationId}:{webhookId}</c>. The API
/// shape is <see cref="WebhookResponse"/>; this type is storage only.
/// </summary>
public sealed class WebhookEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string ApplicationId { get; set; } = string.Empty;

    public string WebhookId { get; set; } = string.Empty;

    public string Url { get; set; } = string.Empty;

    public string? Description { get; set; }

    public bool IsActive { get; set; }

    /// <summary>JSON array of event type names, or <c>["*"]</c>.</summary>
    public string SubscribedEvents { get; set; } = "[\"*\"]";

    public string KeyFingerprint { get; set; } = string.Empty;

    public string SecretVersion { get; set; } = string.Empty;

    public string? PreviousSecretVersion { get; set; }

    public DateTimeOffset? PreviousSecretExpiresAt { get; set; }

    public DateTimeOffset? LastTestAt { get; set; }

    public string? LastTestStatus { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public static string RowKeyOf(string applicationId, string webhookId) => applicationId + ":" + webhookId;
}

/// <summary>
/// Guards URL uniqueness: RK <c>url:{applicationId}:{sha256(url)}</c> in the merchant's partition,
/// written in the same entity-group transaction as the webhook. The <c>url:</c> prefix sorts after
/// every hex application id, so webhook range queries never see these rows.
/// </summary>
public sealed class WebhookUrlIndexEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string WebhookId { get; set; } = string.Empty;

    public static string RowKeyOf(string applicationId, string normalizedUrl) =>
        "url:" + applicationId + ":" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(normalizedUrl)));
}

/// <summary>
/// Per-application webhook count: RK <c>count:{applicationId}</c>. Updated with its ETag in every
/// create and delete transaction, so concurrent creates cannot pass the limit together.
/// </summary>
public sealed class WebhookCounterEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public int Count { get; set; }

    public static string RowKeyOf(string applicationId) => "count:" + applicationId;
}
