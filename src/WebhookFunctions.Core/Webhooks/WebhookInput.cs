namespace WebhookFunctions.Core.Webhooks;

/// <summary>A validated create request.</summary>
public sealed record WebhookDraft(string Url, string? Description, bool IsActive, IReadOnlyList<string> SubscribedEvents, int? RateLimitPerSecond = null);

/// <summary>
/// A validated PATCH: null members were absent, except <see cref="Description"/> and <see cref="RateLimitPerSecond"/>,
/// which <see cref="HasDescription"/> and <see cref="HasRateLimit"/> qualify (null clears them).
/// </summary>
public sealed record WebhookPatch(
    string? Url, bool HasDescription, string? Description, bool? IsActive, IReadOnlyList<string>? SubscribedEvents,
    bool HasRateLimit = false, int? RateLimitPerSecond = null);
