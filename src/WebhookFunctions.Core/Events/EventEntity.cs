using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Events;

/// <summary>
/// The rows of <c>Events</c>, all in the application's partition so that one entity-group transaction
/// writes an event together with its externalId index row and its pending fan-out marker:
/// <list type="bullet">
/// <item><c>e:{descending id}</c>: the event, newest first; the payload in up to five binary columns of
/// at most 60 KiB each (a property holds at most 64 KiB, an entity 1 MiB).</item>
/// <item><c>x:{sha256(externalId)}</c>: the externalId's owner, kept exactly as long as the event.</item>
/// <item><c>p:{descending id}</c>: present until fan-out has written every delivery; the sweep re-drives what it finds.</item>
/// </list>
/// </summary>
public static class EventEntity
{
    public const int ChunkBytes = 60 * 1024;
    public const int MaxChunks = 5;

    public static string RowKeyOf(string eventId) => "e:" + Ids.Descending(eventId);

    public static string ExternalRowKeyOf(string externalId) =>
        "x:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(externalId)));

    public static string PendingRowKeyOf(string eventId) => "p:" + Ids.Descending(eventId);

    public static string EventIdOfPending(string rowKey) => Ids.Descending(rowKey[2..]);

    /// <summary>A digest of what makes two publishes with one externalId the same request.</summary>
    public static string RequestHash(string eventType, ReadOnlySpan<byte> payload)
    {
        var type = Encoding.UTF8.GetBytes(eventType + "\n");
        var all = new byte[type.Length + payload.Length];
        type.CopyTo(all, 0);
        payload.CopyTo(all.AsSpan(type.Length));
        return Convert.ToHexStringLower(SHA256.HashData(all));
    }

    public static TableEntity ToEntity(EventRecord e)
    {
        var row = new TableEntity(e.ApplicationId, RowKeyOf(e.Id))
        {
            ["EventId"] = e.Id,
            ["MerchantId"] = e.MerchantId,
            ["EventType"] = e.EventType,
            ["ExternalId"] = e.ExternalId,
            ["CreatedAt"] = e.CreatedAt,
            ["PayloadChunks"] = 0,
        };
        var payload = e.Payload;
        var chunks = 0;
        for (var offset = 0; offset < payload.Length; offset += ChunkBytes, chunks++)
        {
            row["Payload" + chunks] = payload.Slice(offset, Math.Min(ChunkBytes, payload.Length - offset)).ToArray();
        }

        row["PayloadChunks"] = chunks;
        if (e.WebhookIds is not null)
        {
            row["WebhookIds"] = JsonSerializer.Serialize(e.WebhookIds);
        }

        if (e.ExcludedWebhookId is not null)
        {
            row["ExcludedWebhookId"] = e.ExcludedWebhookId;
        }

        return row;
    }

    public static EventRecord ToModel(TableEntity row)
    {
        var chunks = row.GetInt32("PayloadChunks") ?? 0;
        var payload = new byte[Enumerable.Range(0, chunks).Sum(i => row.GetBinary("Payload" + i)?.Length ?? 0)];
        var offset = 0;
        for (var i = 0; i < chunks; i++)
        {
            var chunk = row.GetBinary("Payload" + i) ?? [];
            chunk.CopyTo(payload, offset);
            offset += chunk.Length;
        }

        return new EventRecord
        {
            Id = row.GetString("EventId"),
            MerchantId = row.GetString("MerchantId"),
            ApplicationId = row.PartitionKey,
            EventType = row.GetString("EventType"),
            ExternalId = row.GetString("ExternalId"),
            CreatedAt = row.GetDateTimeOffset("CreatedAt") ?? default,
            Payload = payload,
            WebhookIds = row.GetString("WebhookIds") is { } ids ? JsonSerializer.Deserialize<string[]>(ids) : null,
            ExcludedWebhookId = row.GetString("ExcludedWebhookId"),
            Targets = row.GetString("Targets") is { } targets ? JsonSerializer.Deserialize<string[]>(targets) : null,
        };
    }

    public static TableEntity ExternalIndex(EventRecord e, string requestHash) => new(e.ApplicationId, ExternalRowKeyOf(e.ExternalId!))
    {
        ["EventId"] = e.Id,
        ["RequestHash"] = requestHash,
        ["CreatedAt"] = e.CreatedAt,
    };

    public static TableEntity Pending(EventRecord e) => new(e.ApplicationId, PendingRowKeyOf(e.Id))
    {
        ["MerchantId"] = e.MerchantId,
        ["CreatedAt"] = e.CreatedAt,
    };
}
