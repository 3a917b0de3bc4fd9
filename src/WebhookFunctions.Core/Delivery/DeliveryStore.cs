using Azure;
using Azure.Data.Tables;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Delivery;

/// <summary>Deliveries, their attempts and the webhook's counts, in the webhook's partition of <c>Deliveries</c>.</summary>
public sealed class DeliveryStore(Tables tables)
{
    private readonly TableClient _table = tables.Deliveries;

    /// <summary>Creates the delivery (and its pending marker) unless it exists: fan-out may run twice.</summary>
    public async Task<bool> TryCreateAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, DeliveryEntity.ToEntity(delivery)) };
        if (delivery.Status == DeliveryStatus.Pending)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, DeliveryEntity.Pending(delivery)));
        }

        try
        {
            await _table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException exception) when (exception.Status == 409)
        {
            return false;
        }
    }

    public async Task<Delivery?> FindAsync(string webhookId, string eventId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(webhookId, DeliveryEntity.RowKeyOf(eventId), cancellationToken: cancellationToken);
        return found.HasValue ? DeliveryEntity.ToModel(found.Value!) : null;
    }

    public async Task<(IReadOnlyList<Delivery> Items, bool More)> ListAsync(
        string webhookId, string? status, string? afterEventId, int limit, CancellationToken cancellationToken)
    {
        var lower = afterEventId is null ? "d:" : DeliveryEntity.RowKeyOf(afterEventId);
        var filter = status is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RowKey gt {lower} and RowKey lt {"d;"}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RowKey gt {lower} and RowKey lt {"d;"} and Status eq {status}");
        var items = new List<Delivery>(limit + 1);
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(1000, limit + 1), cancellationToken: cancellationToken))
        {
            items.Add(DeliveryEntity.ToModel(row));
            if (items.Count > limit)
            {
                items.RemoveAt(limit);
                return (items, true);
            }
        }

        return (items, false);
    }

    public async Task<IReadOnlyList<DeliveryAttempt>> AttemptsAsync(string webhookId, string eventId, CancellationToken cancellationToken)
    {
        var prefix = $"a:{Ids.Descending(eventId)}:";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RowKey gt {prefix} and RowKey lt {prefix[..^1] + ";"}");
        var items = new List<DeliveryAttempt>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            items.Add(DeliveryEntity.ToAttempt(row));
        }

        return items;
    }

    /// <summary>The webhook's counts: its shards added up (one single-partition range read).</summary>
    public async Task<DeliveryStats> StatsAsync(string webhookId, CancellationToken cancellationToken)
    {
        var shards = new List<DeliveryStats>();
        await foreach (var row in _table.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RowKey gt {"stats:"} and RowKey lt {"stats;"}"),
                           cancellationToken: cancellationToken))
        {
            shards.Add(DeliveryEntity.ToStats(row));
        }

        return shards.Count == 0 ? DeliveryStats.Empty : DeliveryStats.Combine(shards);
    }

    /// <summary>One shard of the webhook's counts, with its version for the recording transaction.</summary>
    public async Task<DeliveryStats> ShardAsync(string webhookId, int shard, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(webhookId, DeliveryEntity.StatsRowKeyOf(shard), cancellationToken: cancellationToken);
        return found.HasValue ? DeliveryEntity.ToStats(found.Value!) : DeliveryStats.Empty;
    }

    /// <summary>Writes <paramref name="updated"/> if the delivery is still at its version; null if another writer got there first.</summary>
    public async Task<Delivery?> TryReplaceAsync(Delivery updated, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _table.UpdateEntityAsync(DeliveryEntity.ToEntity(updated), updated.Version, TableUpdateMode.Replace, cancellationToken);
            return updated with { Version = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary>
    /// Records one attempt and everything it changes, in one transaction: the attempt row (which must
    /// not exist yet), the delivery moved on from <paramref name="current"/>'s version, its pending
    /// marker, and the counts. False when another writer changed the delivery or the counts first.
    /// </summary>
    public async Task<bool> TryRecordAsync(
        Delivery current, Delivery updated, DeliveryAttempt attempt, DeliveryStats currentStats, DeliveryStats updatedStats,
        string? manualId, CancellationToken cancellationToken)
    {
        var shard = DeliveryEntity.ShardOf(updated.EventId);
        var actions = new List<TableTransactionAction>
        {
            new(TableTransactionActionType.Add, DeliveryEntity.ToEntity(updated.WebhookId, updated.EventId, attempt, updated.CreatedAt)),
            new(TableTransactionActionType.UpdateReplace, DeliveryEntity.ToEntity(updated), current.Version),
            DeliveryEntity.HasVersion(currentStats.Version)
                ? new(TableTransactionActionType.UpdateReplace, DeliveryEntity.ToEntity(updated.WebhookId, shard, updatedStats), currentStats.Version)
                : new(TableTransactionActionType.Add, DeliveryEntity.ToEntity(updated.WebhookId, shard, updatedStats)),
        };
        if (updated.Status == DeliveryStatus.Pending)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, DeliveryEntity.Pending(updated)));
        }
        else if (current.Status == DeliveryStatus.Pending)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(updated.WebhookId, DeliveryEntity.PendingRowKeyOf(updated.EventId)), ETag.All));
        }

        if (manualId is not null)
        {
            actions.Add(new TableTransactionAction(
                TableTransactionActionType.UpsertMerge, new TableEntity(updated.WebhookId, DeliveryEntity.ManualRowKeyOf(manualId)) { ["Done"] = true }));
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

    /// <summary>Ends a pending delivery without an attempt (its webhook went away), removing its marker in the same transaction.</summary>
    public async Task<bool> TrySettleAsync(Delivery current, Delivery updated, CancellationToken cancellationToken)
    {
        try
        {
            await _table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, DeliveryEntity.ToEntity(updated), current.Version),
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(updated.WebhookId, DeliveryEntity.PendingRowKeyOf(updated.EventId)), ETag.All),
            ], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 404 or 409 or 412)
        {
            return false;
        }
    }

    /// <summary>Claims a manual resend for <paramref name="lease"/>: false if it is done, or another worker holds a live claim.</summary>
    public async Task<bool> TryClaimManualAsync(string webhookId, string manualId, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken)
    {
        var row = new TableEntity(webhookId, DeliveryEntity.ManualRowKeyOf(manualId)) { ["ClaimedUntil"] = now + lease, ["Done"] = false, ["CreatedAt"] = now };
        try
        {
            await _table.AddEntityAsync(row, cancellationToken);
            return true;
        }
        catch (RequestFailedException exception) when (exception.Status == 409)
        {
        }

        var existing = await _table.GetEntityIfExistsAsync<TableEntity>(webhookId, row.RowKey, cancellationToken: cancellationToken);
        if (!existing.HasValue || existing.Value!.GetBoolean("Done") == true || existing.Value.GetDateTimeOffset("ClaimedUntil") > now)
        {
            return false;
        }

        try
        {
            await _table.UpdateEntityAsync(row, existing.Value.ETag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException exception) when (exception.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>Ends a failure streak in every shard, as re-enabling a webhook does; counts are kept.</summary>
    public async Task ResetStreakAsync(string webhookId, CancellationToken cancellationToken)
    {
        for (var shard = 0; shard < DeliveryEntity.StatsShards; shard++)
        {
            try
            {
                await _table.UpdateEntityAsync(
                    new TableEntity(webhookId, DeliveryEntity.StatsRowKeyOf(shard)) { ["FailureStreak"] = 0 }, ETag.All, TableUpdateMode.Merge, cancellationToken);
            }
            catch (RequestFailedException exception) when (exception.Status == 404)
            {
                // No attempt counted in this shard yet: there is no streak to end.
            }
        }
    }

    /// <summary>
    /// Moves a pending delivery's marker to <paramref name="until"/>, when its attempt waits in a throttled webhook's
    /// line, so the sweep does not take the wait for lost work and re-drive it. Only an existing marker: a delivery
    /// settled meanwhile keeps none.
    /// </summary>
    public async Task PostponePendingAsync(string webhookId, string eventId, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var marker = new TableEntity(webhookId, DeliveryEntity.PendingRowKeyOf(eventId)) { ["NextAttemptAt"] = until, ["RedrivenAt"] = until };
        try
        {
            await _table.UpdateEntityAsync(marker, ETag.All, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
        }
    }

    /// <summary>Pending markers of one webhook, for the sweep.</summary>
    public IAsyncEnumerable<TableEntity> PendingAsync(string webhookId, CancellationToken cancellationToken) =>
        _table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RowKey gt {"p:"} and RowKey lt {"p;"}"),
            cancellationToken: cancellationToken);
}
