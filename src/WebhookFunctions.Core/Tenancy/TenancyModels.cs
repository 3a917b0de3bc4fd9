namespace WebhookFunctions.Core.Tenancy;

public sealed record Merchant(string Id, string Name, DateTimeOffset CreatedAt);

public sealed record Application(string Id, string MerchantId, string Name, DateTimeOffset CreatedAt);
