using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Verification;

/// <summary>
/// Holds deliveries to a webhook whose owner has not yet agreed to receive them, without recording an attempt,
/// and lets them go the moment it is verified. A parked delivery's next attempt moves to the next recheck
/// (bounded by the end of the window), with its pending marker, so the sweep does not take it for lost work;
/// after the window it is skipped as <c>webhook_unverified</c>.
/// </summary>
public sealed class VerificationGate(
    Tables tables, DeliveryStore deliveries, DeliveryQueues queues, IOptions<WebhookOptions> options, TimeProvider clock, ILogger<VerificationGate> logger)
{
    private readonly WebhookOptions _options = options.Value;

    /// <summary>True when nothing but the owner's own test ping may be sent to the webhook yet.</summary>
    public bool IsUnverified(Webhook webhook) =>
        _options.RequireVerification && webhook.VerificationStatus == VerificationStatus.Pending;

    /// <summary>
    /// True when this attempt must not be made now: the delivery was parked (and its message sent again for the
    /// recheck) or skipped. Only the handler whose parking write won sends the message on, so duplicates die out here.
    /// </summary>
    public async Task<bool> HoldAsync(Delivery.Delivery delivery, Webhook webhook, AttemptMessage message, CancellationToken cancellationToken)
    {
        if (!IsUnverified(webhook))
        {
            return false;
        }

        var now = clock.GetUtcNow();
        var deadline = (webhook.VerificationPendingSince ?? webhook.CreatedAt) + _options.VerificationWindowDuration;
        if (now >= deadline)
        {
            await deliveries.TrySettleAsync(delivery, delivery with
            {
                Status = DeliveryStatus.Skipped, SkippedReason = SkippedReasons.WebhookUnverified, NextAttemptAt = null, ClaimedAttempt = null, ClaimedUntil = null,
            }, cancellationToken);
            return true;
        }

        var wait = deadline - now < _options.VerificationRecheckDuration ? deadline - now : _options.VerificationRecheckDuration;
        if (await TryRescheduleAsync(delivery, now + wait, cancellationToken))
        {
            await queues.SendAsync(message, wait, cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// Sends every pending delivery of a just-verified webhook its next attempt now. Reads the markers page by page
    /// (the SDK pages the query), so memory stays bounded however many waited. A parked message that comes up later
    /// is dropped by the attempt fence or the claim, so nothing is sent twice.
    /// </summary>
    public async Task<int> ReleaseAsync(Webhook webhook, CancellationToken cancellationToken)
    {
        var released = 0;
        await foreach (var marker in deliveries.PendingAsync(webhook.Id, cancellationToken))
        {
            var now = clock.GetUtcNow();
            if (await deliveries.FindAsync(webhook.Id, marker.GetString("EventId"), cancellationToken) is not { Status: DeliveryStatus.Pending } pending
                || (pending.ClaimedUntil is { } until && until > now))
            {
                continue;
            }

            if (pending.NextAttemptAt is { } due && due > now && !await TryRescheduleAsync(pending, now, cancellationToken))
            {
                continue;
            }

            await queues.SendAsync(
                new AttemptMessage(pending.MerchantId, pending.ApplicationId, pending.WebhookId, pending.EventId, pending.ScheduledAttempts + 1),
                TimeSpan.Zero, cancellationToken);
            released++;
        }

        if (released > 0)
        {
            logger.LogInformation("Webhook {WebhookId} verified: {Count} waiting deliveries released", webhook.Id, released);
        }

        return released;
    }

    /// <summary>Moves the delivery's next attempt and its marker together, if the delivery is still as read.</summary>
    private async Task<bool> TryRescheduleAsync(Delivery.Delivery delivery, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var moved = delivery with { NextAttemptAt = at };
        try
        {
            await tables.Deliveries.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateReplace, DeliveryEntity.ToEntity(moved), delivery.Version),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, DeliveryEntity.Pending(moved)),
            ], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException exception) when (exception.Status is 404 or 409 or 412)
        {
            return false;
        }
    }
}
