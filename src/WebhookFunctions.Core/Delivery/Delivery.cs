using Azure;

namespace WebhookFunctions.Core.Delivery;

public static class DeliveryStatus
{
    public const string Pending = "PENDING";
    public const string Succeeded = "SUCCEEDED";
    public const string Failed = "FAILED";
    public const string Skipped = "SKIPPED";

    public static readonly IReadOnlyList<string> All = [Pending, Succeeded, Failed, Skipped];
}

public static class SkippedReasons
{
    public const string WebhookInactive = "webhook_inactive";
    public const string WebhookDeleted = "webhook_deleted";
    public const string WebhookUnverified = "webhook_unverified";
}

public static class AttemptTriggers
{
    public const string Scheduled = "scheduled";
    public const string Manual = "manual";
    public const string Recover = "recover";
}

/// <summary>One event on its way to one webhook.</summary>
public sealed record Delivery
{
    public required string WebhookId { get; init; }

    public required string EventId { get; init; }

    public required string ApplicationId { get; init; }

    public required string MerchantId { get; init; }

    public required string EventType { get; init; }

    public required string Status { get; init; }

    public string? SkippedReason { get; init; }

    /// <summary>Every attempt recorded, manual ones included: the number the next attempt row gets is this plus one.</summary>
    public int Attempts { get; init; }

    /// <summary>Scheduled attempts used: what the retry schedule counts.</summary>
    public int ScheduledAttempts { get; init; }

    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>The trigger the next scheduled attempt is recorded with: <c>scheduled</c>, or <c>recover</c> after a recovery.</summary>
    public string NextTrigger { get; init; } = AttemptTriggers.Scheduled;

    public DateTimeOffset? LastAttemptAt { get; init; }

    public int? LastHttpStatus { get; init; }

    public string? LastError { get; init; }

    /// <summary>The event's creation time: lists sort and retention counts by it.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The scheduled attempt a worker is making now, and until when its claim holds.</summary>
    public int? ClaimedAttempt { get; init; }

    public DateTimeOffset? ClaimedUntil { get; init; }

    /// <summary>The recover job that last put this delivery back to pending: a re-run page of that job skips it.</summary>
    public string? RecoverJobId { get; init; }

    public ETag Version { get; init; }
}

/// <summary>One HTTP POST of a delivery, as recorded.</summary>
public sealed record DeliveryAttempt(
    int Attempt, string Trigger, DateTimeOffset StartedAt, long DurationMs, int? HttpStatus, string? Error, string? ResponseBody);

/// <summary>
/// A webhook's attempt counts and failure streak, kept apart from the webhook so that delivery never
/// changes its ETag. They are kept in <see cref="DeliveryEntity.StatsShards"/> rows, an attempt
/// counting in the shard its event falls in, so that concurrent attempts to one busy endpoint do not
/// all contend on one row; reads add the shards up.
/// </summary>
public sealed record DeliveryStats
{
    public long SuccessCount { get; init; }

    public long FailureCount { get; init; }

    public DateTimeOffset? LastDeliveryAt { get; init; }

    public string? LastDeliveryStatus { get; init; }

    /// <summary>Attempts failed in a row since the last success (or since the streak was reset).</summary>
    public int FailureStreak { get; init; }

    public DateTimeOffset? FailingSince { get; init; }

    public DateTimeOffset? LastSuccessAt { get; init; }

    public ETag Version { get; init; }

    public static DeliveryStats Empty { get; } = new();

    /// <summary>
    /// The webhook's totals from its shards. The streak counts the failures every shard saw after the
    /// latest success anywhere; a shard whose own streak began before that success is left out, which
    /// can only delay a disable, never cause one. While an endpoint is dead every shard's streak begins
    /// after its last success, so the count is then exact.
    /// </summary>
    public static DeliveryStats Combine(IReadOnlyCollection<DeliveryStats> shards)
    {
        var lastSuccess = shards.Max(s => s.LastSuccessAt);
        var failing = shards.Where(s => s.FailureStreak > 0 && s.FailingSince is { } since && (lastSuccess is null || since > lastSuccess)).ToList();
        var last = shards.Where(s => s.LastDeliveryAt is not null).MaxBy(s => s.LastDeliveryAt);
        return new DeliveryStats
        {
            SuccessCount = shards.Sum(s => s.SuccessCount),
            FailureCount = shards.Sum(s => s.FailureCount),
            LastDeliveryAt = last?.LastDeliveryAt,
            LastDeliveryStatus = last?.LastDeliveryStatus,
            LastSuccessAt = lastSuccess,
            FailureStreak = failing.Sum(s => s.FailureStreak),
            FailingSince = failing.Min(s => s.FailingSince),
        };
    }
}
