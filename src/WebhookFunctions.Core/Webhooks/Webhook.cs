using Azure;

namespace WebhookFunctions.Core.Webhooks;

/// <summary>
/// A webhook as the domain sees it. Storage maps it to and from its table row in one place
/// (<see cref="WebhookEntity"/>); the API shape is built from it at the HTTP edge.
/// </summary>
public sealed record Webhook
{
    public required string MerchantId { get; init; }

    public required string ApplicationId { get; init; }

    public required string Id { get; init; }

    public required string Url { get; init; }

    public string? Description { get; init; }

    public bool IsActive { get; init; }

    /// <summary>Event type names, or <c>["*"]</c> for all.</summary>
    public required IReadOnlyList<string> SubscribedEvents { get; init; }

    public required string KeyFingerprint { get; init; }

    public required string SecretVersion { get; init; }

    public string? PreviousSecretVersion { get; init; }

    public DateTimeOffset? PreviousSecretExpiresAt { get; init; }

    public DateTimeOffset? LastTestAt { get; init; }

    public string? LastTestStatus { get; init; }

    /// <summary>Why the webhook is inactive: <c>manual</c>, <c>gone</c> (a 410) or <c>consecutive_failures</c>; null while active.</summary>
    public string? DisabledReason { get; init; }

    public DateTimeOffset? DisabledAt { get; init; }

    /// <summary><c>PENDING</c> until the owner of <see cref="Url"/> proved consent; rows written before verification existed read as <c>VERIFIED</c>.</summary>
    public string VerificationStatus { get; init; } = Verification.VerificationStatus.Verified;

    public DateTimeOffset? VerifiedAt { get; init; }

    /// <summary>When the webhook last became pending (created, or its URL changed): the verification window runs from here.</summary>
    public DateTimeOffset? VerificationPendingSince { get; init; }

    /// <summary>The challenge requested last; a challenge message for any other nonce is stale.</summary>
    public string? VerificationNonce { get; init; }
    /// <summary>At most this many attempts start in any one second, across every instance; null for no limit.</summary>
    public int? RateLimitPerSecond { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The storage version this was read at; conditional writes use it.</summary>
    public ETag Version { get; init; }
}

public static class DisabledReasons
{
    public const string Manual = "manual";
    public const string Gone = "gone";
    public const string ConsecutiveFailures = "consecutive_failures";
}
