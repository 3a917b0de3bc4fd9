using System.Text.Json;
using Azure;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Serialization;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

/// <summary>
/// Publishing: the event is durable, with its pending fan-out marker, before the caller hears 202.
/// The fan-out message is a shortcut; if it is lost, the sweep finds the marker and sends it again.
/// </summary>
public sealed class EventPublisher(
    ApplicationService applications,
    WebhookRepository webhooks,
    EventStore events,
    DeliveryQueues queues,
    TimeProvider clock,
    ILogger<EventPublisher> logger)
{
    public async Task<PublishedEvent> PublishAsync(Caller caller, string applicationId, EventDraft draft, CancellationToken cancellationToken)
    {
        await applications.RequireOwnedAsync(caller.MerchantId, applicationId, cancellationToken);
        if (draft.WebhookIds is { Count: > 0 } narrowed)
        {
            var found = await Task.WhenAll(narrowed.Select(id => webhooks.FindAsync(caller.MerchantId, applicationId, id, cancellationToken)));
            var unknown = narrowed.Where((_, i) => found[i] is null).ToList();
            if (unknown.Count > 0)
            {
                throw new ValidationException(new ErrorDetail("webhookIds", "Not webhooks of this application: " + string.Join(", ", unknown)));
            }
        }

        // An externalId is not looked up first: the insert's index row fails if it is taken, so a first publish (the
        // common case) makes one storage call before the fan-out message, as a publish without one does.
        var requestHash = EventEntity.RequestHash(draft.EventType, draft.Payload.Span);
        var e = new EventRecord
        {
            Id = Ids.New(),
            MerchantId = caller.MerchantId,
            ApplicationId = applicationId,
            EventType = draft.EventType,
            ExternalId = draft.ExternalId,
            Payload = draft.Payload,
            CreatedAt = Timestamps.Truncate(clock.GetUtcNow()),
            WebhookIds = draft.WebhookIds is { Count: > 0 } ? draft.WebhookIds : null,
        };
        if (await events.TryInsertAsync(e, requestHash, cancellationToken) is null)
        {
            // The externalId is taken, by an earlier publish (a replay) or a concurrent one: answer with that event.
            return await ReplayAsync(applicationId, draft.ExternalId!, requestHash, cancellationToken)
                ?? throw new ConflictException("Too many concurrent publishes with this externalId; retry the request.");
        }

        await SendFanOutAsync(e, cancellationToken);
        return new PublishedEvent(e, Replayed: false);
    }

    /// <summary>
    /// Publishes <c>webhook.disabled</c> on the service's own account when it disables a webhook. It
    /// goes to the application's other webhooks that subscribe to it by name.
    /// </summary>
    public async Task PublishDisabledAsync(Webhook disabled, string? lastError, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new
        {
            webhookId = disabled.Id,
            url = disabled.Url,
            disabledReason = disabled.DisabledReason,
            disabledAt = disabled.DisabledAt,
            lastError,
        }, ApiJson.Options);
        var e = new EventRecord
        {
            Id = Ids.New(),
            MerchantId = disabled.MerchantId,
            ApplicationId = disabled.ApplicationId,
            EventType = EventCatalog.WebhookDisabled,
            Payload = payload,
            CreatedAt = Timestamps.Truncate(clock.GetUtcNow()),
            ExcludedWebhookId = disabled.Id,
        };
        await events.TryInsertAsync(e, EventEntity.RequestHash(e.EventType, payload), cancellationToken);
        await SendFanOutAsync(e, cancellationToken);
    }

    private async Task<PublishedEvent?> ReplayAsync(string applicationId, string externalId, string requestHash, CancellationToken cancellationToken)
    {
        if (await events.FindExternalAsync(applicationId, externalId, cancellationToken) is not { } owner)
        {
            return null;
        }

        if (!string.Equals(owner.RequestHash, requestHash, StringComparison.Ordinal))
        {
            throw new ConflictException(
                $"externalId '{externalId}' was already used by event '{owner.EventId}' with a different eventType or payload.",
                new ErrorDetail("externalId", $"Already used by event {owner.EventId}"));
        }

        var original = await events.FindAsync(applicationId, owner.EventId, cancellationToken)
            ?? throw EventStore.Gone(owner.EventId);
        return new PublishedEvent(original, Replayed: true);
    }

    private async Task SendFanOutAsync(EventRecord e, CancellationToken cancellationToken)
    {
        try
        {
            await queues.SendAsync(new FanOutMessage(e.MerchantId, e.ApplicationId, e.Id), cancellationToken);
        }
        catch (Exception exception) when (exception is RequestFailedException or HttpRequestException)
        {
            // The event and its marker are stored: the sweep re-drives the fan-out, so the 202 still holds.
            logger.LogWarning("Fan-out message for event {EventId} not sent ({ExceptionType}); the sweep will re-drive it", e.Id, exception.GetType().Name);
        }
    }
}
