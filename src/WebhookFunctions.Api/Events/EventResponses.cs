using System.Text.Json;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Events;

namespace WebhookFunctions.Api.Events;

public sealed record EventResponse(string Id, string ApplicationId, string EventType, string? ExternalId, DateTimeOffset CreatedAt)
{
    public static EventResponse From(EventRecord e) => new(e.Id, e.ApplicationId, e.EventType, e.ExternalId, e.CreatedAt);
}

public sealed record EventDeliveryResponse(
    string WebhookId, string Status, int Attempts, DateTimeOffset? LastAttemptAt, DateTimeOffset? NextAttemptAt, int? LastHttpStatus, string? SkippedReason)
{
    public static EventDeliveryResponse From(Delivery d) =>
        new(d.WebhookId, d.Status, d.Attempts, d.LastAttemptAt, d.NextAttemptAt, d.LastHttpStatus, d.SkippedReason);
}

public sealed record EventDetailResponse(
    string Id, string ApplicationId, string EventType, string? ExternalId, DateTimeOffset CreatedAt, JsonElement Payload,
    IReadOnlyList<EventDeliveryResponse> Deliveries)
{
    public static EventDetailResponse From(EventRecord e, IReadOnlyList<Delivery> deliveries)
    {
        using var payload = JsonDocument.Parse(e.Payload);
        return new(e.Id, e.ApplicationId, e.EventType, e.ExternalId, e.CreatedAt, payload.RootElement.Clone(),
            deliveries.Select(EventDeliveryResponse.From).ToList());
    }
}

public sealed record DeliveryResponse(
    string EventId, string EventType, string Status, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset? LastAttemptAt,
    DateTimeOffset? NextAttemptAt, int? LastHttpStatus, string? LastError, string? SkippedReason)
{
    public static DeliveryResponse From(Delivery d) =>
        new(d.EventId, d.EventType, d.Status, d.Attempts, d.CreatedAt, d.LastAttemptAt, d.NextAttemptAt, d.LastHttpStatus, d.LastError, d.SkippedReason);
}

public sealed record AttemptResponse(
    int Attempt, string Trigger, DateTimeOffset StartedAt, long DurationMs, int? HttpStatus, string? Error, string? ResponseBody)
{
    public static AttemptResponse From(DeliveryAttempt a) => new(a.Attempt, a.Trigger, a.StartedAt, a.DurationMs, a.HttpStatus, a.Error, a.ResponseBody);
}

public sealed record AttemptList(IReadOnlyList<AttemptResponse> Items);

public sealed record ResendResponse(string WebhookId, string EventId, string Status);
