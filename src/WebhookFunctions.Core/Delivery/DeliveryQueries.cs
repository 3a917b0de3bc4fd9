using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Paging;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

/// <summary>What a merchant reads of its events and deliveries, and the manual resend. Every call checks the application is the caller's.</summary>
public sealed class DeliveryQueries(
    ApplicationService applications, WebhookRepository webhooks, EventStore events, DeliveryStore deliveries, DeliveryQueues queues, EventCatalog catalog,
    Verification.VerificationGate verification)
{
    public async Task<(EventRecord Event, IReadOnlyList<Delivery> Deliveries)> GetEventAsync(
        Caller caller, string applicationId, string eventId, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        Ids.Require(eventId, "eventId");
        var e = await events.FindAsync(applicationId, eventId, cancellationToken) ?? throw EventStore.Gone(eventId);
        var found = await Task.WhenAll((e.Targets ?? []).Select(id => deliveries.FindAsync(id, eventId, cancellationToken)));
        return (e, found.OfType<Delivery>().ToList());
    }

    public async Task<Page<EventRecord>> ListEventsAsync(
        Caller caller, string applicationId, string? eventType, int limit, string? after, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        if (eventType is not null && !catalog.Contains(eventType))
        {
            throw new ValidationException(new ErrorDetail("eventType", "Must be an event type name from the catalog"));
        }

        var (items, more) = await events.ListAsync(applicationId, eventType, after, limit, cancellationToken);
        return new Page<EventRecord>(items, more ? PageTokens.Encode(items[^1].Id) : null);
    }

    public async Task<Page<Delivery>> ListDeliveriesAsync(
        Caller caller, string applicationId, string webhookId, string? status, int limit, string? after, CancellationToken cancellationToken)
    {
        await RequireWebhookAsync(caller, applicationId, webhookId, cancellationToken);
        if (status is not null && !DeliveryStatus.All.Contains(status, StringComparer.Ordinal))
        {
            throw new ValidationException(new ErrorDetail("status", "Must be one of " + string.Join(", ", DeliveryStatus.All)));
        }

        var (items, more) = await deliveries.ListAsync(webhookId, status, after, limit, cancellationToken);
        return new Page<Delivery>(items, more ? PageTokens.Encode(items[^1].EventId) : null);
    }

    public async Task<IReadOnlyList<DeliveryAttempt>> ListAttemptsAsync(
        Caller caller, string applicationId, string webhookId, string eventId, CancellationToken cancellationToken)
    {
        await RequireDeliveryAsync(caller, applicationId, webhookId, eventId, cancellationToken);
        return await deliveries.AttemptsAsync(webhookId, eventId, cancellationToken);
    }

    /// <summary>Queues one extra attempt now, whatever the delivery's status; a pending delivery keeps its schedule.</summary>
    public async Task ResendAsync(Caller caller, string applicationId, string webhookId, string eventId, CancellationToken cancellationToken)
    {
        var (webhook, _) = await RequireDeliveryAsync(caller, applicationId, webhookId, eventId, cancellationToken);
        if (!webhook.IsActive)
        {
            throw new ConflictException("The webhook is inactive; enable it before resending.", new ErrorDetail("isActive", "Is false"));
        }

        // A resend is the merchant's event, not its own ping: an unverified endpoint gets none, or a key could
        // aim resends at a third party's URL.
        if (verification.IsUnverified(webhook))
        {
            throw new ConflictException(
                "The webhook's endpoint has not been verified by its owner; resend once it is (see VerifyWebhook).",
                new ErrorDetail("verificationStatus", "Is PENDING"));
        }

        await queues.SendAsync(new AttemptMessage(caller.MerchantId, applicationId, webhookId, eventId, 0, Ids.New()), TimeSpan.Zero, cancellationToken);
    }

    private async Task<Webhook> RequireWebhookAsync(Caller caller, string applicationId, string webhookId, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        Ids.Require(webhookId, "webhookId");
        return (await webhooks.FindAsync(caller.MerchantId, applicationId, webhookId, cancellationToken))?.Webhook
            ?? throw WebhookRepository.Gone(webhookId);
    }

    private async Task<(Webhook Webhook, Delivery Delivery)> RequireDeliveryAsync(
        Caller caller, string applicationId, string webhookId, string eventId, CancellationToken cancellationToken)
    {
        var webhook = await RequireWebhookAsync(caller, applicationId, webhookId, cancellationToken);
        Ids.Require(eventId, "eventId");
        var delivery = await deliveries.FindAsync(webhookId, eventId, cancellationToken)
            ?? throw new NotFoundException($"Webhook '{webhookId}' has no delivery of event '{eventId}'.");
        return (webhook, delivery);
    }
}
