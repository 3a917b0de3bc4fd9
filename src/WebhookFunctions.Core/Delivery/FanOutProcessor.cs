using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

/// <summary>
/// Turns one event into one delivery per subscribed webhook. Safe to run twice: deliveries are
/// created only if missing, duplicate attempt messages are fenced, and the event's marker goes last.
/// </summary>
public sealed class FanOutProcessor(
    EventStore events, WebhookService webhooks, DeliveryStore deliveries, DeliveryQueues queues, TimeProvider clock, ILogger<FanOutProcessor> logger)
{
    /// <summary>Webhooks written at once for one event: enough to hide round trips, few enough that one event to many endpoints does not flood storage.</summary>
    private const int MaxParallel = 8;

    public async Task HandleAsync(FanOutMessage message, CancellationToken cancellationToken)
    {
        var e = await events.FindAsync(message.ApplicationId, message.EventId, cancellationToken);
        if (e is null || e.Targets is not null)
        {
            return;
        }

        var targets = (await webhooks.AllOfAsync(e.MerchantId, e.ApplicationId, cancellationToken))
            .Where(w => w.CreatedAt <= e.CreatedAt && Subscribes(w, e.EventType))
            .Where(w => e.WebhookIds is null || e.WebhookIds.Contains(w.Id, StringComparer.Ordinal))
            .Where(w => !string.Equals(w.Id, e.ExcludedWebhookId, StringComparison.Ordinal))
            .ToList();
        var now = clock.GetUtcNow();
        // The webhooks are independent, so their writes overlap: an event to five endpoints waits for about two
        // storage round trips rather than ten before its first attempt can be taken.
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = MaxParallel, CancellationToken = cancellationToken }, async (webhook, ct) =>
        {
            var delivery = new Delivery
            {
                WebhookId = webhook.Id,
                EventId = e.Id,
                ApplicationId = e.ApplicationId,
                MerchantId = e.MerchantId,
                EventType = e.EventType,
                Status = webhook.IsActive ? DeliveryStatus.Pending : DeliveryStatus.Skipped,
                SkippedReason = webhook.IsActive ? null : SkippedReasons.WebhookInactive,
                NextAttemptAt = webhook.IsActive ? now : null,
                CreatedAt = e.CreatedAt,
            };
            await deliveries.TryCreateAsync(delivery, ct);
            if (webhook.IsActive)
            {
                // Sent even when the delivery already existed: if this is a re-drive, the first message
                // may be the thing that was lost, and a stale duplicate is dropped by the attempt fence.
                await queues.SendAsync(new AttemptMessage(e.MerchantId, e.ApplicationId, webhook.Id, e.Id, 1), TimeSpan.Zero, ct);
            }
        });

        await events.CompleteFanOutAsync(e, targets.Select(w => w.Id).ToList(), cancellationToken);
        logger.LogDebug("Event {EventId} fanned out to {Count} webhooks", e.Id, targets.Count);
    }

    /// <summary>By name, or through <c>*</c>, except <c>webhook.disabled</c>, which goes only to those that name it.</summary>
    public static bool Subscribes(Webhook webhook, string eventType) =>
        webhook.SubscribedEvents.Contains(eventType, StringComparer.Ordinal)
        || (eventType != EventCatalog.WebhookDisabled && webhook.SubscribedEvents.Contains(EventCatalog.All, StringComparer.Ordinal));
}
