namespace WebhookFunctions.Core.Auth;

/// <summary>
/// Who is calling: the merchant comes from the key, never from the request. <paramref name="KeyExpiresAt"/>
/// is when the calling key stops working, so that nothing it creates can outlive it.
/// </summary>
public sealed record Caller(string MerchantId, string KeyId, DateTimeOffset? KeyExpiresAt);
