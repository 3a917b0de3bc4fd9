using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Serialization;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Verification;
using WebhookFunctions.Core.Throttling;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

/// <summary>
/// Makes one attempt of one delivery and records it. Every queue message may arrive twice and every
/// worker may die between two writes, so:
/// <list type="bullet">
/// <item>a scheduled message carries the attempt number it is for, and is dropped unless that is the
/// delivery's next one (a stale duplicate cannot skip or repeat the schedule);</item>
/// <item>a worker claims the attempt on the delivery's ETag before it sends, so two workers holding the
/// same message do not both send; a claim that outlives its worker expires and the attempt is made again;</item>
/// <item>the attempt row, the delivery, its pending marker and the counts are written in one transaction,
/// and the attempt row must not exist yet, so one attempt is never recorded twice.</item>
/// </list>
/// Nothing here sleeps longer than a second: a retry is a queue message hidden until it is due (to the whole second).
/// </summary>
public sealed class AttemptProcessor(
    DeliveryStore deliveries,
    EventStore events,
    WebhookService webhooks,
    ISecretStore secrets,
    WebhookSender sender,
    RetryPolicy retries,
    DeliveryQueues queues,
    EventPublisher publisher,
    VerificationGate verification,
    DeliveryThrottle throttle,
    IOptions<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<AttemptProcessor> logger)
{
    private readonly DeliveryOptions _options = options.Value;
    private TimeSpan Timeout => TimeSpan.FromSeconds(_options.TimeoutSeconds);

    public const string SecretMissing = "The webhook's signing secret is missing from the secret store, so nothing was sent. Rotating the secret restores delivery.";

    /// <summary>How long a claim holds: the send's own deadline and room to record it.</summary>
    private TimeSpan ClaimLease => Timeout + TimeSpan.FromSeconds(30);

    public Task HandleAsync(AttemptMessage message, CancellationToken cancellationToken) =>
        message.ManualId is null ? ScheduledAsync(message, cancellationToken) : ManualAsync(message, cancellationToken);

    private async Task ScheduledAsync(AttemptMessage message, CancellationToken cancellationToken)
    {
        // The three reads an attempt needs go out together: the message names the webhook and the event, so the
        // first attempt waits for one storage round trip here rather than three. In the rare case the delivery turns
        // out not to need this attempt (a duplicate message), two reads were wasted.
        var webhookRead = webhooks.FindAsync(message.MerchantId, message.ApplicationId, message.WebhookId, cancellationToken);
        var eventRead = events.FindAsync(message.ApplicationId, message.EventId, cancellationToken);
        var delivery = await deliveries.FindAsync(message.WebhookId, message.EventId, cancellationToken);
        if (delivery is null || delivery.Status != DeliveryStatus.Pending || message.Attempt != delivery.ScheduledAttempts + 1)
        {
            Abandon(webhookRead, eventRead);
            return;
        }

        var now = clock.GetUtcNow();
        if (delivery.ClaimedAttempt == message.Attempt && delivery.ClaimedUntil > now)
        {
            Abandon(webhookRead, eventRead);
            return;
        }

        if (delivery.NextAttemptAt is { } due && due > now)
        {
            if (due - now > TimeSpan.FromSeconds(1))
            {
                // Early: a wait longer than a queue message can be hidden, or a re-drive. Come back when due.
                Abandon(webhookRead, eventRead);
                await queues.SendAsync(message, due - now, cancellationToken);
                return;
            }

            // A queue message is hidden for whole seconds only, so it comes up to a second early; wait out
            // the rest here rather than attempt before the schedule or a receiver's Retry-After allows.
            await Task.Delay(due - now, clock, cancellationToken);
            now = clock.GetUtcNow();
        }

        var webhook = await webhookRead;
        if (webhook is null || !webhook.IsActive)
        {
            Abandon(eventRead);
            var reason = webhook is null ? SkippedReasons.WebhookDeleted : SkippedReasons.WebhookInactive;
            await deliveries.TrySettleAsync(delivery, delivery with
            {
                Status = DeliveryStatus.Skipped, SkippedReason = reason, NextAttemptAt = null, ClaimedAttempt = null, ClaimedUntil = null,
            }, cancellationToken);
            return;
        }

        // An owner who has not agreed to receive events gets none: the delivery waits, no attempt recorded.
        if (await verification.HoldAsync(delivery, webhook, message, cancellationToken))
        {
            Abandon(eventRead);
            return;
        }

        var admission = await ThrottleAsync(webhook, message, cancellationToken);
        if (admission is { Admitted: false })
        {
            Abandon(eventRead);
            return;
        }

        var claimed = await deliveries.TryReplaceAsync(delivery with { ClaimedAttempt = message.Attempt, ClaimedUntil = now + ClaimLease }, cancellationToken);
        if (claimed is null)
        {
            Abandon(eventRead);
            return;
        }

        var e = await eventRead;
        if (e is null)
        {
            return;
        }

        (var result, now) = await SendAsync(webhook, e, now, admission?.Slot, cancellationToken);
        var recorded = await RecordAsync(claimed, message.Attempt, delivery.NextTrigger, result, now, null, cancellationToken);
        if (recorded is null)
        {
            return;
        }

        if (recorded.Delivery.Status == DeliveryStatus.Pending && recorded.Delivery.NextAttemptAt is { } next)
        {
            await queues.SendAsync(message with { Attempt = message.Attempt + 1 }, next - clock.GetUtcNow(), cancellationToken);
        }

        await DisableIfDeadAsync(webhook, result, recorded.Stats, cancellationToken);
    }

    /// <summary>Reads started ahead and no longer wanted: a failure of theirs is not this attempt's failure, and is not left unobserved.</summary>
    private static void Abandon(params Task[] reads)
    {
        foreach (var read in reads)
        {
            read.ContinueWith(static r => _ = r.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private async Task ManualAsync(AttemptMessage message, CancellationToken cancellationToken)
    {
        // The webhook is read before the claim: a resend counts against the rate limit too, and one held back
        // by it must not leave a claim behind that would drop it when it comes back.
        var webhook = await webhooks.FindAsync(message.MerchantId, message.ApplicationId, message.WebhookId, cancellationToken);
        var admission = await ThrottleAsync(webhook, message, cancellationToken);
        if (admission is { Admitted: false })
        {
            return;
        }

        var now = clock.GetUtcNow();
        if (!await deliveries.TryClaimManualAsync(message.WebhookId, message.ManualId!, now, ClaimLease, cancellationToken))
        {
            return;
        }

        var delivery = await deliveries.FindAsync(message.WebhookId, message.EventId, cancellationToken);
        var e = await events.FindAsync(message.ApplicationId, message.EventId, cancellationToken);
        // A resend accepted before the URL changed must not go to the new, unverified URL.
        if (delivery is null || webhook is null || !webhook.IsActive || verification.IsUnverified(webhook) || e is null)
        {
            return;
        }

        (var result, now) = await SendAsync(webhook, e, now, admission?.Slot, cancellationToken);
        var recorded = await RecordAsync(delivery, null, AttemptTriggers.Manual, result, now, message.ManualId, cancellationToken);
        if (recorded is not null)
        {
            await DisableIfDeadAsync(webhook, result, recorded.Stats, cancellationToken);
        }
    }

    /// <summary>Sends the attempt, at its throttle slot if it has one, and says when it started.</summary>
    private async Task<(SendResult Result, DateTimeOffset StartedAt)> SendAsync(
        Webhook webhook, EventRecord e, DateTimeOffset now, DateTimeOffset? slot, CancellationToken cancellationToken)
    {
        if (await SigningSecrets.FindAsync(secrets, webhook, now, cancellationToken) is not { } signing)
        {
            // Recorded as a failed attempt on the schedule, where the merchant sees it and a rotation mends it,
            // rather than thrown until the message goes to poison and the delivery waits on re-drives forever.
            logger.LogWarning("Webhook {WebhookId}: its signing secret version is missing from the secret store; nothing was sent", webhook.Id);
            return (new SendResult(null, 0, SecretMissing, null, null), now);
        }

        if (slot is { } at)
        {
            // Every storage read is done: what a receiver measures is the spacing of the slots, not of storage latencies.
            now = await throttle.WaitForAsync(webhook.Id, webhook.RateLimitPerSecond ?? 1, at, cancellationToken);
        }

        return (await sender.SendAsync(webhook.Url, e.Id, now, Body(e), signing, Timeout, cancellationToken), now);
    }

    /// <summary>
    /// Null for a webhook without a rate limit (no storage call at all). Otherwise the throttle's answer; an
    /// attempt held back goes back on the queue as it is, for its turn, without a claim or a recorded attempt.
    /// </summary>
    private async Task<Admission?> ThrottleAsync(Webhook? webhook, AttemptMessage message, CancellationToken cancellationToken)
    {
        if (webhook is not { IsActive: true, RateLimitPerSecond: { } rate })
        {
            return null;
        }

        var admission = await throttle.AdmitAsync(webhook.Id, rate, message.InLine, cancellationToken);
        if (!admission.Admitted)
        {
            await queues.SendAsync(message with { InLine = admission.InLine }, admission.Delay, cancellationToken);
            if (message.ManualId is null && admission.Delay >= TimeSpan.FromSeconds(_options.RedriveAfterSeconds) / 2)
            {
                await deliveries.PostponePendingAsync(message.WebhookId, message.EventId, clock.GetUtcNow() + admission.Delay, cancellationToken);
            }
        }

        return admission;
    }

    /// <summary>The message body: the event's type and creation time around the payload as it was published.</summary>
    public static byte[] Body(EventRecord e)
    {
        var head = Encoding.UTF8.GetBytes(
            "{\"type\":" + JsonSerializer.Serialize(e.EventType) + ",\"timestamp\":\"" + ApiJson.Format(e.CreatedAt) + "\",\"data\":");
        var body = new byte[head.Length + e.Payload.Length + 1];
        head.CopyTo(body, 0);
        e.Payload.Span.CopyTo(body.AsSpan(head.Length));
        body[^1] = (byte)'}';
        return body;
    }

    private sealed record Recorded(Delivery Delivery, DeliveryStats Stats);

    /// <summary>
    /// Records the attempt with everything it changes, re-reading and retrying when another writer
    /// (a manual resend, an attempt on another delivery of this webhook) moved the delivery or the
    /// counts first. Null when a duplicate worker already recorded this scheduled attempt.
    /// </summary>
    private Task<Recorded?> RecordAsync(
        Delivery first, int? scheduledAttempt, string trigger, SendResult result, DateTimeOffset startedAt, string? manualId, CancellationToken cancellationToken)
    {
        var reread = false;
        return OptimisticConcurrency.RunAsync<Recorded?>(async ct =>
        {
            var current = reread ? await deliveries.FindAsync(first.WebhookId, first.EventId, ct) : first;
            reread = true;
            if (current is null)
            {
                return null;
            }

            if (scheduledAttempt is { } n && current.ScheduledAttempts >= n)
            {
                return null;
            }

            var stats = await deliveries.ShardAsync(current.WebhookId, DeliveryEntity.ShardOf(current.EventId), ct);
            var now = clock.GetUtcNow();
            var attempt = new DeliveryAttempt(current.Attempts + 1, trigger, startedAt, result.DurationMs, result.HttpStatus, result.Error, result.ResponseBody);
            var updated = scheduledAttempt is { } scheduled ? Scheduled(current, scheduled, result, now) : Manual(current, result);
            updated = updated with { Attempts = attempt.Attempt, LastAttemptAt = startedAt, LastHttpStatus = result.HttpStatus, LastError = result.Error };
            var counted = Count(stats, result, startedAt);
            if (await deliveries.TryRecordAsync(current, updated, attempt, stats, counted, manualId, ct))
            {
                return new Recorded(updated, counted);
            }

            throw new WriteConflictException();
        }, cancellationToken);
    }

    private Delivery Scheduled(Delivery current, int attempt, SendResult result, DateTimeOffset now)
    {
        var retryIn = result.Succeeded || result.HttpStatus == 410 ? null : retries.DelayAfter(attempt, result.RetryAfter);
        return current with
        {
            ScheduledAttempts = attempt,
            Status = result.Succeeded ? DeliveryStatus.Succeeded : retryIn is null ? DeliveryStatus.Failed : DeliveryStatus.Pending,
            NextAttemptAt = retryIn is { } delay ? now + delay : null,
            NextTrigger = AttemptTriggers.Scheduled,
            ClaimedAttempt = null,
            ClaimedUntil = null,
        };
    }

    /// <summary>A manual attempt never moves a pending delivery's schedule; it settles a finished one only by succeeding.</summary>
    private static Delivery Manual(Delivery current, SendResult result) =>
        result.Succeeded && current.Status != DeliveryStatus.Pending
            ? current with { Status = DeliveryStatus.Succeeded, SkippedReason = null }
            : current;

    private static DeliveryStats Count(DeliveryStats stats, SendResult result, DateTimeOffset at) => result.Succeeded
        ? stats with
        {
            SuccessCount = stats.SuccessCount + 1, LastDeliveryAt = at, LastDeliveryStatus = DeliveryStatus.Succeeded, LastSuccessAt = at,
            FailureStreak = 0, FailingSince = null,
        }
        : stats with
        {
            FailureCount = stats.FailureCount + 1,
            LastDeliveryAt = at,
            LastDeliveryStatus = DeliveryStatus.Failed,
            FailureStreak = stats.FailureStreak + 1,
            FailingSince = stats.FailureStreak == 0 || stats.FailingSince is null ? at : stats.FailingSince,
        };

    private async Task DisableIfDeadAsync(Webhook webhook, SendResult result, DeliveryStats shard, CancellationToken cancellationToken)
    {
        string? reason = null;
        if (result.HttpStatus == 410)
        {
            reason = DisabledReasons.Gone;
        }
        else if (!result.Succeeded && shard.FailureStreak > 0
                 && await deliveries.StatsAsync(webhook.Id, cancellationToken) is { } stats
                 && stats.FailureStreak >= _options.DisableAfterFailures
                 && stats.FailingSince is { } since && clock.GetUtcNow() - since >= _options.DisableAfterDuration)
        {
            reason = DisabledReasons.ConsecutiveFailures;
        }

        if (reason is null || await webhooks.DisableAsync(webhook.MerchantId, webhook.ApplicationId, webhook.Id, reason, cancellationToken) is not { } disabled)
        {
            return;
        }

        logger.LogWarning("Webhook {WebhookId} disabled: {Reason}", webhook.Id, reason);
        await publisher.PublishDisabledAsync(disabled, result.Error, cancellationToken);
    }
}
