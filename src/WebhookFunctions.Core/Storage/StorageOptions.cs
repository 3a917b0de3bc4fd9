namespace WebhookFunctions.Core.Storage;

/// <summary>
/// Where the tables, queues and blobs live (section <c>Storage</c>). Azurite uses a connection string; Azure uses the
/// table endpoint and the app's managed identity, so no account key exists anywhere.
/// </summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Connection string, for Azurite. Ignored when <see cref="TableServiceUri"/> is set.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Table endpoint, for Azure, e.g. https://account.table.core.windows.net.</summary>
    public Uri? TableServiceUri { get; set; }

    /// <summary>Queue endpoint, for Azure; derived from <see cref="TableServiceUri"/> when not set.</summary>
    public Uri? QueueServiceUri { get; set; }

    /// <summary>Blob endpoint, for Azure; derived from <see cref="TableServiceUri"/> when not set.</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>Per-try network timeout of storage calls.</summary>
    public int NetworkTimeoutSeconds { get; set; } = 5;

    public int MaxRetries { get; set; } = 2;
}
