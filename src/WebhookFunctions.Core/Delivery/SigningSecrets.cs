using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

/// <summary>The secrets a message to a webhook is signed with: the current one, and the previous one during its grace period.</summary>
public static class SigningSecrets
{
    public static async Task<IReadOnlyList<string>> OfAsync(ISecretStore store, Webhook webhook, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var name = SecretNames.ForWebhook(webhook.Id);
        var secrets = new List<string>
        {
            await store.GetAsync(name, webhook.SecretVersion, cancellationToken)
                ?? throw new DependencyUnavailableException("The webhook's signing secret could not be read from the secret store."),
        };
        if (webhook.PreviousSecretVersion is { } previous && webhook.PreviousSecretExpiresAt > now
            && await store.GetAsync(name, previous, cancellationToken) is { } previousSecret)
        {
            secrets.Add(previousSecret);
        }

        return secrets;
    }
}
