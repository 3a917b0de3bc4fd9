using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Events;

/// <summary>Events in the application's partition of <c>Events</c>: point reads and single-partition range queries only.</summary>
public sealed class EventStore(Tables tables)
{
    private readonly TableClient _table = tables.Events;

    /// <summary>
    /// Writes the event, its externalId index row and its pending fan-out marker in one transaction:
    /// either all of them exist, or none. Returns null when the externalId is already taken.
    /// </summary>
    public async Task<EventRecord?> TryInsertAsync(EventRecord e, string requestHash, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction>
        {
            new(TableTransactionActionType.Add, EventEntity.ToEntity(e)),
            new(TableTransactionActionType.Add, EventEntity.Pending(e)),
        };
        if (e.ExternalId is not null)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, EventEntity.ExternalIndex(e, requestHash)));
        }

        try
        {
            await _table.SubmitTransactionAsync(actions, cancellationToken);
            return e;
        }
        catch (TableTransactionFailedException exception) when (exception.Status == 409 && e.ExternalId is not null)
        {
            return null;
        }
    }

    public async Task<(string EventId, string RequestHash)?> FindExternalAsync(string applicationId, string externalId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(applicationId, EventEntity.ExternalRowKeyOf(externalId), cancellationToken: cancellationToken);
        return found.HasValue ? (found.Value!.GetString("EventId"), found.Value.GetString("RequestHash")) : null;
    }

    public async Task<EventRecord?> FindAsync(string applicationId, string eventId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(applicationId, EventEntity.RowKeyOf(eventId), cancellationToken: cancellationToken);
        return found.HasValue ? EventEntity.ToModel(found.Value!) : null;
    }

    /// <summary>Newest first, optionally of one type, resuming after <paramref name="afterEventId"/>.</summary>
    public async Task<(IReadOnlyList<EventRecord> Items, bool More)> ListAsync(
        string applicationId, string? eventType, string? afterEventId, int limit, CancellationToken cancellationToken)
    {
        var lower = afterEventId is null ? "e:" : EventEntity.RowKeyOf(afterEventId);
        var filter = eventType is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {applicationId} and RowKey gt {lower} and RowKey lt {"e;"}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {applicationId} and RowKey gt {lower} and RowKey lt {"e;"} and EventType eq {eventType}");
        var items = new List<EventRecord>(limit + 1);
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(1000, limit + 1), cancellationToken: cancellationToken))
        {
            items.Add(EventEntity.ToModel(row));
            if (items.Count > limit)
            {
                items.RemoveAt(limit);
                return (items, true);
            }
        }

        return (items, false);
    }

    /// <summary>Records the webhooks that got a delivery and removes the pending marker, in one transaction.</summary>
    public async Task CompleteFanOutAsync(EventRecord e, IReadOnlyList<string> targets, CancellationToken cancellationToken)
    {
        var update = new TableEntity(e.ApplicationId, EventEntity.RowKeyOf(e.Id)) { ["Targets"] = JsonSerializer.Serialize(targets) };
        try
        {
            await _table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateMerge, update, ETag.All),
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(e.ApplicationId, EventEntity.PendingRowKeyOf(e.Id)), ETag.All),
            ], cancellationToken);
        }
        catch (TableTransactionFailedException exception) when (exception.Status == 404)
        {
            // A duplicate fan-out finished first (the marker is gone) or retention removed the event: nothing left to do.
        }
    }

    /// <summary>Pending fan-out markers of one application, for the sweep.</summary>
    public IAsyncEnumerable<TableEntity> PendingAsync(string applicationId, CancellationToken cancellationToken) =>
        _table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {applicationId} and RowKey gt {"p:"} and RowKey lt {"p;"}"),
            cancellationToken: cancellationToken);

    internal static NotFoundException Gone(string eventId) => new($"Event '{eventId}' does not exist.");
}
