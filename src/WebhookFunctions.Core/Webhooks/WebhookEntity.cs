using System.Text.Json;
using Azure.Data.Tables;

namespace WebhookFunctions.Core.Webhooks;

/// <summary>
/// The one mapping between <see cref="Webhook"/> and its row in <c>Webhooks</c>: PK merchantId, RK
/// <c>{applicationId}:{webhookId}</c>. A write starts from the row as it was read and overlays only
/// the columns this mapping owns, so a column it does not know (added by a later version, or by
/// delivery work) survives every PATCH and rotation.
/// </summary>
public static class WebhookEntity
{
    public const string ApplicationId = nameof(ApplicationId);
    public const string WebhookId = nameof(WebhookId);
    public const string Url = nameof(Url);
    public const string Description = nameof(Description);
    public const string IsActive = nameof(IsActive);
    public const string SubscribedEvents = nameof(SubscribedEvents);
    public const string KeyFingerprint = nameof(KeyFingerprint);
    public const string SecretVersion = nameof(SecretVersion);
    public const string PreviousSecretVersion = nameof(PreviousSecretVersion);
    public const string PreviousSecretExpiresAt = nameof(PreviousSecretExpiresAt);
    public const string LastTestAt = nameof(LastTestAt);
    public const string LastTestStatus = nameof(LastTestStatus);
    public const string DisabledReason = nameof(DisabledReason);
    public const string DisabledAt = nameof(DisabledAt);
    public const string VerificationStatus = nameof(VerificationStatus);
    public const string VerifiedAt = nameof(VerifiedAt);
    public const string VerificationPendingSince = nameof(VerificationPendingSince);
    public const string VerificationNonce = nameof(VerificationNonce);
    public const string RateLimitPerSecond = nameof(RateLimitPerSecond);
    public const string CreatedAt = nameof(CreatedAt);
    public const string UpdatedAt = nameof(UpdatedAt);

    public static string RowKeyOf(string applicationId, string webhookId) => applicationId + ":" + webhookId;

    public static Webhook ToModel(TableEntity row) => new()
    {
        MerchantId = row.PartitionKey,
        ApplicationId = row.GetString(ApplicationId),
        Id = row.GetString(WebhookId),
        Url = row.GetString(Url),
        Description = row.GetString(Description),
        IsActive = row.GetBoolean(IsActive) ?? false,
        SubscribedEvents = JsonSerializer.Deserialize<string[]>(row.GetString(SubscribedEvents) ?? "[\"*\"]") ?? ["*"],
        KeyFingerprint = row.GetString(KeyFingerprint) ?? string.Empty,
        SecretVersion = row.GetString(SecretVersion) ?? string.Empty,
        PreviousSecretVersion = row.GetString(PreviousSecretVersion),
        PreviousSecretExpiresAt = row.GetDateTimeOffset(PreviousSecretExpiresAt),
        LastTestAt = row.GetDateTimeOffset(LastTestAt),
        LastTestStatus = row.GetString(LastTestStatus),
        DisabledReason = row.GetString(DisabledReason),
        DisabledAt = row.GetDateTimeOffset(DisabledAt),
        // A row written before verification existed has no status: its webhook was accepted as it was.
        VerificationStatus = row.GetString(VerificationStatus) ?? Verification.VerificationStatus.Verified,
        VerifiedAt = row.GetDateTimeOffset(VerifiedAt),
        VerificationPendingSince = row.GetDateTimeOffset(VerificationPendingSince),
        VerificationNonce = row.GetString(VerificationNonce),
        RateLimitPerSecond = row.GetInt32(RateLimitPerSecond),
        CreatedAt = row.GetDateTimeOffset(CreatedAt) ?? default,
        UpdatedAt = row.GetDateTimeOffset(UpdatedAt) ?? default,
        Version = row.ETag,
    };

    /// <summary>
    /// The row for <paramref name="webhook"/>: a copy of <paramref name="original"/> (every column,
    /// known or not) with this mapping's columns set, and removed where the model holds null.
    /// </summary>
    public static TableEntity ToEntity(Webhook webhook, TableEntity? original = null)
    {
        var row = original is null ? new TableEntity() : new TableEntity(original);
        row.PartitionKey = webhook.MerchantId;
        row.RowKey = RowKeyOf(webhook.ApplicationId, webhook.Id);
        row.ETag = webhook.Version;
        Set(row, ApplicationId, webhook.ApplicationId);
        Set(row, WebhookId, webhook.Id);
        Set(row, Url, webhook.Url);
        Set(row, Description, webhook.Description);
        Set(row, IsActive, webhook.IsActive);
        Set(row, SubscribedEvents, JsonSerializer.Serialize(webhook.SubscribedEvents));
        Set(row, KeyFingerprint, webhook.KeyFingerprint);
        Set(row, SecretVersion, webhook.SecretVersion);
        Set(row, PreviousSecretVersion, webhook.PreviousSecretVersion);
        Set(row, PreviousSecretExpiresAt, webhook.PreviousSecretExpiresAt);
        Set(row, LastTestAt, webhook.LastTestAt);
        Set(row, LastTestStatus, webhook.LastTestStatus);
        Set(row, DisabledReason, webhook.DisabledReason);
        Set(row, DisabledAt, webhook.DisabledAt);
        Set(row, VerificationStatus, webhook.VerificationStatus);
        Set(row, VerifiedAt, webhook.VerifiedAt);
        Set(row, VerificationPendingSince, webhook.VerificationPendingSince);
        Set(row, VerificationNonce, webhook.VerificationNonce);
        Set(row, RateLimitPerSecond, webhook.RateLimitPerSecond);
        Set(row, CreatedAt, webhook.CreatedAt);
        Set(row, UpdatedAt, webhook.UpdatedAt);
        return row;
    }

    private static void Set(TableEntity row, string column, object? value)
    {
        if (value is null)
        {
            row.Remove(column);
        }
        else
        {
            row[column] = value;
        }
    }
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

    public Azure.ETag ETag { get; set; }

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

    public Azure.ETag ETag { get; set; }

    public int Count { get; set; }

    public static string RowKeyOf(string applicationId) => "count:" + applicationId;
}
