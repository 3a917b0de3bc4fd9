using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

public sealed record DeliverySweepResult(int FanOutsRedriven, int AttemptsRedriven, int RowsPurged);

/// <summary>
/// Keeps the 202's promise without trusting any single write: it finds pending fan-outs and pending
/// deliveries that are overdue (their message expired, or a worker died between two writes) and sends
/// their messages again; duplicates are harmless, since the processors fence them. It also removes
/// what has outlived <c>Delivery:RetentionDays</c>. It reads by partition from the markers, which exist
/// only while work is pending; the retention purge is a filtered scan, which is maintenance, not a request path.
/// </summary>
public sealed class DeliverySweeper(
    Tables tables, EventStore events, DeliveryStore deliveries, DeliveryQueues queues, IOptions<DeliveryOptions> options, TimeProvider clock,
    ILogger<DeliverySweeper> logger)
{
    private readonly DeliveryOptions _options = options.Value;

    public async Task<DeliverySweepResult> SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var overdue = now - TimeSpan.FromSeconds(_options.RedriveAfterSeconds);
        int fanOuts = 0, attempts = 0;

        await foreach (var owner in tables.ApplicationOwners.QueryAsync<ApplicationOwnerEntity>(cancellationToken: cancellationToken))
        {
            await foreach (var marker in events.PendingAsync(owner.PartitionKey, cancellationToken))
            {
                if (marker.GetDateTimeOffset("CreatedAt") <= overdue)
                {
                    await queues.SendAsync(new FanOutMessage(owner.MerchantId, owner.PartitionKey, EventEntity.EventIdOfPending(marker.RowKey)), cancellationToken);
                    fanOuts++;
                }
            }
        }

        // The property name is part of the filter's text: CreateQueryFilter would quote it as a string literal, which storage refuses.
        var webhookRows = tables.Webhooks.QueryAsync<TableEntity>(
            $"{WebhookEntity.Url} gt ''", select: [WebhookEntity.WebhookId], cancellationToken: cancellationToken);
        await foreach (var row in webhookRows)
        {
            await foreach (var marker in deliveries.PendingAsync(row.GetString(WebhookEntity.WebhookId), cancellationToken))
            {
                if (marker.GetDateTimeOffset("NextAttemptAt") > overdue
                    || await deliveries.FindAsync(marker.PartitionKey, marker.GetString("EventId"), cancellationToken) is not { Status: DeliveryStatus.Pending } pending)
                {
                    continue;
                }

                await queues.SendAsync(
                    new AttemptMessage(pending.MerchantId, pending.ApplicationId, pending.WebhookId, pending.EventId, pending.ScheduledAttempts + 1),
                    TimeSpan.Zero, cancellationToken);
                attempts++;
            }
        }

        var cutoff = now - TimeSpan.FromDays(_options.RetentionDays);
        var purged = await PurgeAsync(tables.Events, cutoff, cancellationToken) + await PurgeAsync(tables.Deliveries, cutoff, cancellationToken);
        if (fanOuts + attempts + purged > 0)
        {
            logger.LogInformation("Delivery sweep re-drove {FanOuts} fan-outs and {Attempts} attempts, and purged {Purged} rows", fanOuts, attempts, purged);
        }

        return new DeliverySweepResult(fanOuts, attempts, purged);
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
