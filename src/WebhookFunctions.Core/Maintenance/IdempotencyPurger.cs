using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Idempotency;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Maintenance;

public sealed record PurgeResult(int Examined, int Removed);

/// <summary>
/// Deletes idempotency records past their <see cref="IdempotencyEntity.Retention"/>, which would
/// otherwise stay forever. Runs on the orphan sweep's schedule (the timer function and the standalone
/// host's hosted service).
/// </summary>
public sealed class IdempotencyPurger(Tables tables, TimeProvider clock, ILogger<IdempotencyPurger> logger)
{
    public async Task<PurgeResult> PurgeAsync(CancellationToken cancellationToken)
    {
        var table = tables.Idempotency;
        var cutoff = clock.GetUtcNow() - IdempotencyEntity.Retention;

        // The table is partitioned by merchant with hashed row keys, so nothing indexes a record's age:
        // this is a filtered scan of the whole table. Acceptable for a maintenance job that runs hourly
        // off the request path; no request ever scans this table.
        var filter = TableClient.CreateQueryFilter($"CreatedAt lt {cutoff}");
        int examined = 0, removed = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            examined++;
            try
            {
                // Conditional on the row as read: a request may have just taken the expired key over,
                // and its fresh claim must stay.
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
                removed++;
            }
            catch (RequestFailedException exception) when (exception.Status is 404 or 412)
            {
            }
        }

        logger.LogInformation("Idempotency purge examined {Examined} expired records and removed {Removed}", examined, removed);
        return new PurgeResult(examined, removed);
    }
}
