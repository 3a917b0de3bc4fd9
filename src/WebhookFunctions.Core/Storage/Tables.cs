using Azure.Data.Tables;

namespace WebhookFunctions.Core.Storage;

/// <summary>The product's table clients, created once from the single <see cref="TableServiceClient"/>.</summary>
public sealed class Tables(TableServiceClient service)
{
    public TableServiceClient Service { get; } = service;

    public TableClient Merchants { get; } = service.GetTableClient(TableNames.Merchants);

    public TableClient Applications { get; } = service.GetTableClient(TableNames.Applications);

    public TableClient ApplicationOwners { get; } = service.GetTableClient(TableNames.ApplicationOwners);

    public TableClient ApiKeys { get; } = service.GetTableClient(TableNames.ApiKeys);

    public TableClient ApiKeyHashes { get; } = service.GetTableClient(TableNames.ApiKeyHashes);

    public TableClient Webhooks { get; } = service.GetTableClient(TableNames.Webhooks);

    public TableClient LocalSecrets { get; } = service.GetTableClient(TableNames.LocalSecrets);

    public TableClient Idempotency { get; } = service.GetTableClient(TableNames.Idempotency);

    public TableClient Events { get; } = service.GetTableClient(TableNames.Events);

    public TableClient Deliveries { get; } = service.GetTableClient(TableNames.Deliveries);

    public TableClient Jobs { get; } = service.GetTableClient(TableNames.Jobs);
    public TableClient Verifications { get; } = service.GetTableClient(TableNames.Verifications);

    public async Task CreateAllAsync(CancellationToken cancellationToken)
    {
        foreach (var name in TableNames.All)
        {
            await Service.CreateTableIfNotExistsAsync(name, cancellationToken);
        }
    }
}
