namespace WebhookFunctions.Core.Events;

/// <summary>An event a merchant published to one application.</summary>
public sealed record EventRecord
{
    public required string Id { get; init; }

    public required string MerchantId { get; init; }

    public required string ApplicationId { get; init; }

    public required string EventType { get; init; }

    public string? ExternalId { get; init; }

    /// <summary>The payload exactly as published: UTF-8 JSON of an object.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The webhooks the publisher narrowed delivery to, or null for all subscribers.</summary>
    public IReadOnlyList<string>? WebhookIds { get; init; }

    /// <summary>A webhook that must not get this event (the one a <c>webhook.disabled</c> event is about).</summary>
    public string? ExcludedWebhookId { get; init; }

    /// <summary>The webhooks that got a delivery, known once fan-out has run.</summary>
    public IReadOnlyList<string>? Targets { get; init; }
}

/// <summary>What a publish asks for, validated.</summary>
public sealed record EventDraft(string EventType, ReadOnlyMemory<byte> Payload, string? ExternalId, IReadOnlyList<string>? WebhookIds);

/// <summary>The result of a publish: the event, and whether it was an earlier one replayed for the same externalId.</summary>
public sealed record PublishedEvent(EventRecord Event, bool Replayed);
