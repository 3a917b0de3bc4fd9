using Azure;
using Azure.Data.Tables;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Delivery;

/// <summary>
/// The rows of <c>Deliveries</c>, all in the webhook's partition so that one transaction can record an
/// attempt, move its delivery on, keep the pending marker true and count it:
/// <list type="bullet">
/// <item><c>d:{descending event id}</c>: the delivery, newest first;</item>
/// <item><c>a:{descending event id}:{attempt:D5}</c>: its attempts, in order;</item>
/// <item><c>p:{descending event id}</c>: present exactly while the delivery is pending, with its due time, for the sweep;</item>
/// <item><c>m:{manual id}</c>: a manual resend's claim, so a duplicate message does not send it twice;</item>
/// <item><c>stats:{0..7}</c>: the webhook's counts and failure streak, in shards.</item>
/// </list>
/// </summary>
public static class DeliveryEntity
{
    /// <summary>Rows a webhook's counts are spread over; each attempt updates one, chosen by its event.</summary>
    public const int StatsShards = 8;

    public static string StatsRowKeyOf(int shard) => $"stats:{shard}";

    /// <summary>UUIDv7s end in random bits, so their last hex digit spreads events evenly over the shards.</summary>
    public static int ShardOf(string eventId) => Convert.ToInt32(eventId[^1].ToString(), 16) % StatsShards;

    public static string RowKeyOf(string eventId) => "d:" + Ids.Descending(eventId);

    public static string PendingRowKeyOf(string eventId) => "p:" + Ids.Descending(eventId);

    public static string AttemptRowKeyOf(string eventId, int attempt) => $"a:{Ids.Descending(eventId)}:{attempt:D5}";

    public static string ManualRowKeyOf(string manualId) => "m:" + manualId;

    public static string EventIdOf(string rowKey) => Ids.Descending(rowKey[2..38]);

    public static TableEntity ToEntity(Delivery d)
    {
        var row = new TableEntity(d.WebhookId, RowKeyOf(d.EventId))
        {
            ETag = d.Version,
            ["EventId"] = d.EventId,
            ["ApplicationId"] = d.ApplicationId,
            ["MerchantId"] = d.MerchantId,
            ["EventType"] = d.EventType,
            ["Status"] = d.Status,
            ["SkippedReason"] = d.SkippedReason,
            ["Attempts"] = d.Attempts,
            ["ScheduledAttempts"] = d.ScheduledAttempts,
            ["NextAttemptAt"] = d.NextAttemptAt,
            ["NextTrigger"] = d.NextTrigger,
            ["LastAttemptAt"] = d.LastAttemptAt,
            ["LastHttpStatus"] = d.LastHttpStatus,
            ["LastError"] = d.LastError,
            ["CreatedAt"] = d.CreatedAt,
            ["ClaimedAttempt"] = d.ClaimedAttempt,
            ["ClaimedUntil"] = d.ClaimedUntil,
            ["RecoverJobId"] = d.RecoverJobId,
        };
        foreach (var key in row.Keys.Where(k => row[k] is null).ToList())
        {
            row.Remove(key);
        }

        return row;
    }

    public static Delivery ToModel(TableEntity row) => new()
    {
        WebhookId = row.PartitionKey,
        EventId = row.GetString("EventId"),
        ApplicationId = row.GetString("ApplicationId"),
        MerchantId = row.GetString("MerchantId"),
        EventType = row.GetString("EventType"),
        Status = row.GetString("Status"),
        SkippedReason = row.GetString("SkippedReason"),
        Attempts = row.GetInt32("Attempts") ?? 0,
        ScheduledAttempts = row.GetInt32("ScheduledAttempts") ?? 0,
        NextAttemptAt = row.GetDateTimeOffset("NextAttemptAt"),
        NextTrigger = row.GetString("NextTrigger") ?? AttemptTriggers.Scheduled,
        LastAttemptAt = row.GetDateTimeOffset("LastAttemptAt"),
        LastHttpStatus = row.GetInt32("LastHttpStatus"),
        LastError = row.GetString("LastError"),
        CreatedAt = row.GetDateTimeOffset("CreatedAt") ?? default,
        ClaimedAttempt = row.GetInt32("ClaimedAttempt"),
        ClaimedUntil = row.GetDateTimeOffset("ClaimedUntil"),
        RecoverJobId = row.GetString("RecoverJobId"),
        Version = row.ETag,
    };

    public static TableEntity Pending(Delivery d) => new(d.WebhookId, PendingRowKeyOf(d.EventId))
    {
        ["EventId"] = d.EventId,
        ["NextAttemptAt"] = d.NextAttemptAt,
        ["CreatedAt"] = d.CreatedAt,
    };

    public static TableEntity ToEntity(string webhookId, string eventId, DeliveryAttempt a, DateTimeOffset eventCreatedAt)
    {
        var row = new TableEntity(webhookId, AttemptRowKeyOf(eventId, a.Attempt))
        {
            ["Attempt"] = a.Attempt,
            ["Trigger"] = a.Trigger,
            ["StartedAt"] = a.StartedAt,
            ["DurationMs"] = a.DurationMs,
            ["HttpStatus"] = a.HttpStatus,
            ["Error"] = a.Error,
            ["ResponseBody"] = a.ResponseBody,
            ["CreatedAt"] = eventCreatedAt,
        };
        foreach (var key in row.Keys.Where(k => row[k] is null).ToList())
        {
            row.Remove(key);
        }

        return row;
    }

    public static DeliveryAttempt ToAttempt(TableEntity row) => new(
        row.GetInt32("Attempt") ?? 0,
        row.GetString("Trigger") ?? AttemptTriggers.Scheduled,
        row.GetDateTimeOffset("StartedAt") ?? default,
        row.GetInt64("DurationMs") ?? 0,
        row.GetInt32("HttpStatus"),
        row.GetString("Error"),
        row.GetString("ResponseBody"));

    public static TableEntity ToEntity(string webhookId, int shard, DeliveryStats s)
    {
        var row = new TableEntity(webhookId, StatsRowKeyOf(shard))
        {
            ETag = s.Version,
            ["SuccessCount"] = s.SuccessCount,
            ["FailureCount"] = s.FailureCount,
            ["LastDeliveryAt"] = s.LastDeliveryAt,
            ["LastDeliveryStatus"] = s.LastDeliveryStatus,
            ["FailureStreak"] = s.FailureStreak,
            ["FailingSince"] = s.FailingSince,
            ["LastSuccessAt"] = s.LastSuccessAt,
        };
        foreach (var key in row.Keys.Where(k => row[k] is null).ToList())
        {
            row.Remove(key);
        }

        return row;
    }

    public static DeliveryStats ToStats(TableEntity row) => new()
    {
        SuccessCount = row.GetInt64("SuccessCount") ?? 0,
        FailureCount = row.GetInt64("FailureCount") ?? 0,
        LastDeliveryAt = row.GetDateTimeOffset("LastDeliveryAt"),
        LastDeliveryStatus = row.GetString("LastDeliveryStatus"),
        FailureStreak = row.GetInt32("FailureStreak") ?? 0,
        FailingSince = row.GetDateTimeOffset("FailingSince"),
        LastSuccessAt = row.GetDateTimeOffset("LastSuccessAt"),
        Version = row.ETag,
    };

    public static bool HasVersion(ETag version) => version != default;
}
