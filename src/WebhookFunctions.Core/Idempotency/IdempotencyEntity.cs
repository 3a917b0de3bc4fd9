using Azure;
using Azure.Data.Tables;

namespace WebhookFunctions.Core.Idempotency;

/// <summary>
/// One use of an <c>Idempotency-Key</c>. PartitionKey is the merchant; RowKey is a hash of the
/// operation, its route ids and the key, so a client's key never has to fit the RowKey alphabet. The stored body has
/// had every plaintext secret taken out; <see cref="SecretVersion"/> and <see cref="ApiKeyId"/> say
/// what was removed.
/// </summary>
public sealed class IdempotencyEntity : ITableEntity
{
    public const string Pending = "pending";
    public const string Completed = "completed";

    /// <summary>How long a record answers for its key; the sweep deletes it after that.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string State { get; set; } = Pending;

    /// <summary>SHA-256 of the request body, hex.</summary>
    public string RequestHash { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When a pending record stops blocking retries: its holder has crashed or timed out.</summary>
    public DateTimeOffset LeaseExpiresAt { get; set; }

    public int StatusCode { get; set; }

    public string? ResponseBody { get; set; }

    public string? Location { get; set; }

    public string? ResponseETag { get; set; }

    /// <summary>For a signing secret taken out of the body: the webhook whose secret store holds it.</summary>
    public string? SecretWebhookId { get; set; }

    public string? SecretVersion { get; set; }

    /// <summary>For an API key taken out of the body: its id. The key itself exists nowhere.</summary>
    public string? ApiKeyId { get; set; }
}
