using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Jobs;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

public sealed record DeliverySweepResult(int FanOutsRedriven, int AttemptsRedriven, int RowsPurged, int JobsRedriven = 0);

/// <summary>
/// Keeps the 202's promise without trusting any single write: it finds pending fan-outs and pending
/// deliveries that are overdue (their message expired, or a worker died between two writes) and sends
/// their messages again; duplicates are harmless, since the processors fence them. It also removes
/// what has outlived <c>Delivery:RetentionDays</c>. It reads by partition from the markers, which exist
/// only while work is pending; the retention purge is a filtered scan, which is maintenance, not a request path.
/// </summary>
public sealed class DeliverySweeper(
    Tables tables, EventStore events, DeliveryStore deliveries, JobStore jobs, DeliveryQueues queues, IOptions<DeliveryOptions> options, TimeProvider clock,
    ILogger<DeliverySweeper> logger)
{
    private readonly DeliveryOptions _options = options.Value;

    public async Task<DeliverySweepResult> SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        int fanOuts = 0, attempts = 0;

        await foreach (var owner in tables.ApplicationOwners.QueryAsync<ApplicationOwnerEntity>(cancellationToken: cancellationToken))
        {
            await foreach (var marker in events.PendingAsync(owner.PartitionKey, cancellationToken))
            {
                if (IsDue(marker, marker.GetDateTimeOffset("CreatedAt"), now))
                {
                    await queues.SendAsync(new FanOutMessage(owner.MerchantId, owner.PartitionKey, EventEntity.EventIdOfPending(marker.RowKey)), cancellationToken);
                    await NoteRedriveAsync(tables.Events, marker, now, cancellationToken);
                    fanOuts++;
                }
            }
        }

        // Webhook rows are the ones with a Url (index and counter rows have none). A constant filter:
        // CreateQueryFilter quotes every value, so it cannot name a column.
        var webhookRows = tables.Webhooks.QueryAsync<TableEntity>(
            $"{WebhookEntity.Url} gt ''", select: [WebhookEntity.WebhookId], cancellationToken: cancellationToken);
        await foreach (var row in webhookRows)
        {
            await foreach (var marker in deliveries.PendingAsync(row.GetString(WebhookEntity.WebhookId), cancellationToken))
            {
                if (!IsDue(marker, marker.GetDateTimeOffset("NextAttemptAt"), now)
                    || await deliveries.FindAsync(marker.PartitionKey, marker.GetString("EventId"), cancellationToken) is not { Status: DeliveryStatus.Pending } pending)
                {
                    continue;
                }

                await queues.SendAsync(
                    new AttemptMessage(pending.MerchantId, pending.ApplicationId, pending.WebhookId, pending.EventId, pending.ScheduledAttempts + 1),
                    TimeSpan.Zero, cancellationToken);
                await NoteRedriveAsync(tables.Deliveries, marker, now, cancellationToken);
                attempts++;
            }
        }

        // A running job that has not saved a page for a while lost its message (or its worker died holding it).
        // A duplicate is harmless: the page's save is conditional on the job's version.
        var stalled = 0;
        await foreach (var job in jobs.RunningAsync(cancellationToken))
        {
            if (now - job.UpdatedAt >= TimeSpan.FromSeconds(_options.RedriveAfterSeconds))
            {
                await queues.SendAsync(new JobMessage(job.MerchantId, job.Id), cancellationToken);
                stalled++;
            }
        }

        var cutoff = now - TimeSpan.FromDays(_options.RetentionDays);
        var purged = await PurgeAsync(tables.Events, cutoff, cancellationToken) + await PurgeAsync(tables.Deliveries, cutoff, cancellationToken)
            + await PurgeAsync(tables.Jobs, cutoff, cancellationToken);
        if (fanOuts + attempts + stalled + purged > 0)
        {
            logger.LogInformation("Delivery sweep re-drove {FanOuts} fan-outs, {Attempts} attempts and {Jobs} jobs, and purged {Purged} rows",
                fanOuts, attempts, stalled, purged);
        }

        return new DeliverySweepResult(fanOuts, attempts, purged, stalled);
    }

    /// <summary>
    /// Overdue by <c>Delivery:RedriveAfterSeconds</c>, doubled for each time this marker was re-driven
    /// already. Work that is only waiting in a long queue looks overdue too; the doubling keeps a backlog
    /// from being sent again on every sweep, while lost work is still re-driven within one interval.
    /// </summary>
    private bool IsDue(TableEntity marker, DateTimeOffset? due, DateTimeOffset now)
    {
        var redrives = Math.Min(marker.GetInt32("Redrives") ?? 0, 16);
        var since = marker.GetDateTimeOffset("RedrivenAt") ?? due ?? now;
        return now - since >= TimeSpan.FromSeconds(_options.RedriveAfterSeconds * Math.Pow(2, redrives));
    }

    private static async Task NoteRedriveAsync(TableClient table, TableEntity marker, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var note = new TableEntity(marker.PartitionKey, marker.RowKey) { ["RedrivenAt"] = now, ["Redrives"] = (marker.GetInt32("Redrives") ?? 0) + 1 };
        try
        {
            // Conditional on the marker as read: if the work moved on meanwhile, its new marker is left alone.
            await table.UpdateEntityAsync(note, marker.ETag, TableUpdateMode.Merge, cancellationToken);
        }
        catch (Azure.RequestFailedException exception) when (exception.Status is 404 or 412)
        {
        }
    }

    /// <summary>Deletes every row created before <paramref name="cutoff"/>, a partition's rows in batches of up to 100.</summary>
    private static async Task<int> PurgeAsync(TableClient table, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var purged = 0;
        var batch = new List<TableTransactionAction>();
        string? partition = null;
        var old = table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"CreatedAt lt {cutoff}"), select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken);
        await foreach (var row in old)
        {
            if ((partition is not null && partition != row.PartitionKey) || batch.Count == 100)
            {
                purged += await SubmitAsync(table, batch, cancellationToken);
            }

            partition = row.PartitionKey;
            batch.Add(new TableTransactionAction(TableTransactionActionType.Delete, row, Azure.ETag.All));
        }

        return purged + await SubmitAsync(table, batch, cancellationToken);
    }

    private static async Task<int> SubmitAsync(TableClient table, List<TableTransactionAction> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return 0;
        }

        var count = batch.Count;
        try
        {
            await table.SubmitTransactionAsync(batch, cancellationToken);
        }
        catch (TableTransactionFailedException exception) when (exception.Status == 404)
        {
            // Another sweep removed some of them first; the rest go next time.
            count = 0;
        }

        batch.Clear();
        return count;
    }
}
