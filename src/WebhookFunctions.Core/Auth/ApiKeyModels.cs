namespace WebhookFunctions.Core.Auth;

/// <summary>Key metadata as shown to merchants and operators: never the key itself.</summary>
public sealed record ApiKeyInfo(
    string Id,
    string Name,
    string KeyPrefix,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt);

/// <summary>The create response: the only time the full key is ever shown.</summary>
public sealed record CreatedApiKey(
    string Id,
    string Key,
    string KeyPrefix,
    string Name,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt);

public sealed record RevokedApiKey(string Id, DateTimeOffset RevokedAt);
