using Azure;
using Azure.Data.Tables;

namespace WebhookFunctions.Core.Tenancy;

/// <summary><c>Merchants</c>: PK merchantId, RK <see cref="Row"/>.</summary>
public sealed class MerchantEntity : ITableEntity
{
    public const string Row = "merchant";

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = Row;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Name { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary><c>Applications</c>: PK merchantId, RK applicationId, so a merchant's list is one partition.</summary>
public sealed class ApplicationEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string Name { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// <c>ApplicationOwners</c>: PK applicationId. Written after the application itself, so an owner row
/// always has its application; it tells 403 (another merchant's) from 404 (none) in one point read.
/// </summary>
public sealed class ApplicationOwnerEntity : ITableEntity
{
    public const string Row = "owner";

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = Row;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string MerchantId { get; set; } = string.Empty;
}

/// <summary>
/// <c>Applications</c>: the merchant's application count, PK merchantId, RK <see cref="Row"/>. Written
/// with its ETag in the same transaction as each application, so the quota holds across instances.
/// </summary>
public sealed class ApplicationCounterEntity : ITableEntity
{
    /// <summary>Sorts after every application id (lowercase hex and dashes), so lists stop below it.</summary>
    public const string Row = "~count";

    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = Row;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public int Count { get; set; }
}
