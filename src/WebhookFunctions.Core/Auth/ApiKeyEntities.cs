using Azure;
using Azure.Data.Tables;

namespace WebhookFunctions.Core.Auth;

/// <summary>Key metadata, in the merchant's partition (<c>ApiKeys</c>: PK merchantId, RK keyId).</summary>
public sealed class ApiKeyEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Name { get; set; } = string.Empty;

    public string KeyPrefix { get; set; } = string.Empty;

    /// <summary>Hex SHA-256 of the key, so the key's cache entry can be dropped on revoke.</summary>
    public string KeyHash { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// The lookup entity: PK is the hex SHA-256 of the key, so authentication is one point read. It
/// never changes after creation; the key's state lives in <see cref="ApiKeyEntity"/>.
/// </summary>
public sealed class ApiKeyHashEntity : ITableEntity
{
    public const string Row = "key";

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = Row;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string MerchantId { get; set; } = string.Empty;

    public string KeyId { get; set; } = string.Empty;

    public byte[] Hash { get; set; } = [];
}

/// <summary>
/// <c>ApiKeys</c>: the merchant's keys that are not revoked, with their expiries, PK merchantId, RK
/// <see cref="Row"/>. Every create and revoke rewrites it with its ETag in the same transaction as the
/// key, so the active-key quota and the last-key guard are decided on one consistent state.
/// </summary>
public sealed class ApiKeyCounterEntity : ITableEntity
{
    /// <summary>Sorts after every key id (lowercase hex and dashes), so lists stop below it.</summary>
    public const string Row = "~count";

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = Row;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    /// <summary><see cref="ActiveKeySet"/> in its stored form.</summary>
    public string Keys { get; set; } = string.Empty;
}
