using Azure;
using Azure.Data.Tables;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Storage;
using DeliveryRecord = WebhookFunctions.Core.Delivery.Delivery;

namespace WebhookFunctions.Core.Jobs;

/// <summary>
/// The reads and the one write a recovery makes in a webhook's partition of <c>Deliveries</c>. Deliveries
/// are read in row key order (newest event first) from a cursor, so a job pages through any number of
/// them holding one page at a time. The event-time window is a filter on <c>CreatedAt</c> (what lists and
/// retention go by), not a row key range: event ids carry the wall clock, not the service's clock.
/// </summary>
public sealed class RecoverStore(Tables tables)
{
    private const string End = "d;";
    private readonly TableClient _table = tables.Deliveries;

    /// <summary>How many deliveries match: what a dry run answers and a job started now ends with.</summary>
    public async Task<long> CountAsync(string webhookId, DateTimeOffset since, DateTimeOffset until, IReadOnlyList<string> statuses, CancellationToken cancellationToken)
    {
        long count = 0;
        await foreach (var _ in _table.QueryAsync<TableEntity>(Filter(webhookId, null, since, until, statuses, null), maxPerPage: 1000, select: ["RowKey"],
                           cancellationToken: cancellationToken))
        {
            count++;
        }

        return count;
    }

    /// <summary>
    /// The next deliveries after <paramref name="cursor"/> that match, or that this job put back already
    /// (a page re-run after a crash finds those and counts them without touching them again).
    /// </summary>
    public async Task<IReadOnlyList<DeliveryRecord>> PageAsync(RecoverJob job, int size, CancellationToken cancellationToken)
    {
        var page = new List<DeliveryRecord>(size);
        await foreach (var row in _table.QueryAsync<TableEntity>(Filter(job.WebhookId, job.Cursor, job.Since, job.Until, job.Statuses, job.Id),
                           maxPerPage: size, cancellationToken: cancellationToken))
        {
            page.Add(DeliveryEntity.ToModel(row));
            if (page.Count == size)
            {
                break;
            }
        }

        return page;
    }

    /// <summary>
    /// Puts the delivery back to pending with its pending marker in one transaction, conditional on the
    /// version read: false when another writer moved it first.
    /// </summary>
    public async Task<bool> TryResetAsync(DeliveryRecord current, DeliveryRecord reset, CancellationToken cancellationToken)
    {
        try
        {
            await _table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, DeliveryEntity.ToEntity(reset), current.Version),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, DeliveryEntity.Pending(reset)),
            ], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 404 or 409 or 412)
        {
            return false;
        }
    }

    /// <summary>
    /// Puts several deliveries of the webhook back at once, all or none, each conditional on the version
    /// read: one entity-group transaction (at most 50 deliveries with their markers). False when any moved.
    /// </summary>
    public async Task<bool> TryResetAllAsync(IReadOnlyList<(DeliveryRecord Current, DeliveryRecord Reset)> resets, CancellationToken cancellationToken)
    {
        if (resets.Count == 0)
        {
            return true;
        }

        var actions = new List<TableTransactionAction>(resets.Count * 2);
        foreach (var (current, reset) in resets)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateReplace, DeliveryEntity.ToEntity(reset), current.Version));
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, DeliveryEntity.Pending(reset)));
        }

        try
        {
            await _table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 404 or 409 or 412)
        {
            return false;
        }
    }

    public async Task<DeliveryRecord?> FindAsync(string webhookId, string eventId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(webhookId, DeliveryEntity.RowKeyOf(eventId), cancellationToken: cancellationToken);
        return found.HasValue ? DeliveryEntity.ToModel(found.Value!) : null;
    }

    /// <summary>Each value is quoted by <see cref="TableClient.CreateQueryFilter(FormattableString)"/>; only the fixed connectives are joined here.</summary>
    private static string Filter(
        string webhookId, string? cursor, DateTimeOffset since, DateTimeOffset until, IReadOnlyList<string> statuses, string? jobId)
    {
        var range = TableClient.CreateQueryFilter(
            $"PartitionKey eq {webhookId} and RowKey gt {cursor ?? "d:"} and RowKey lt {End} and CreatedAt ge {since} and CreatedAt lt {until}");
        var which = statuses.Select(s => TableClient.CreateQueryFilter($"Status eq {s}")).ToList();
        if (jobId is not null)
        {
            which.Add(TableClient.CreateQueryFilter($"RecoverJobId eq {jobId}"));
        }

        return $"{range} and ({string.Join(" or ", which)})";
    }
}
