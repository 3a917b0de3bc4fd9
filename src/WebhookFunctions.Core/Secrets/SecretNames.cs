namespace WebhookFunctions.Core.Secrets;

/// <summary>
/// Secret names derive from the webhook id, which is never reused, so a name is never reused after a
/// soft delete (Key Vault refuses to recreate a soft-deleted name).
/// </summary>
public static class SecretNames
{
    public const string WebhookPrefix = "whsec-";

    public static string ForWebhook(string webhookId) => WebhookPrefix + webhookId;

    public static IReadOnlyDictionary<string, string> Tags(string merchantId, string applicationId, string webhookId) =>
        new Dictionary<string, string>
        {
            ["merchantId"] = merchantId,
            ["applicationId"] = applicationId,
            ["webhookId"] = webhookId,
        };
}
