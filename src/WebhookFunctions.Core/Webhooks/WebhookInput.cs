namespace WebhookFunctions.Core.Webhooks;

/// <summary>A validated create request.</summary>
public sealed record WebhookDraft(string Url, string? Description, bool IsActive, IReadOnlyList<string> SubscribedEvents);

/// <summary>A validated PATCH: null members were absent, except <see cref="Description"/>, which <see cref="HasDescription"/> qualifies.</summary>
public sealed record WebhookPatch(string? Url, bool HasDescription, string? Description, bool? IsActive, IReadOnlyList<string>? SubscribedEvents);
