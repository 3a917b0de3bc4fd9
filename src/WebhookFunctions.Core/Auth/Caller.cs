namespace WebhookFunctions.Core.Auth;

/// <summary>Who is calling: the merchant comes from the key, never from the request.</summary>
public sealed record Caller(string MerchantId, string KeyId);
