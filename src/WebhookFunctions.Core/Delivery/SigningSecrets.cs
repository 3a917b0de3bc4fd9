using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

/// <summary>The secrets a message to a webhook is signed with: the current one, and the previous one during its grace period.</summary>
public static class SigningSecrets
{
    public static async Task<IReadOnlyList<string>> OfAsync(ISecretStore store, Webhook webhook, DateTimeOffset now, CancellationToken cancellationToken) =>
        await FindAsync(store, webhook, now, cancellationToken)
            ?? throw new DependencyUnavailableException("The webhook's signing secret could not be read from the secret store.");

    /// <summary>
    /// Null when the store answers that the current secret is not there: a state, not an outage (an
    /// unreachable store throws), so a delivery can record it rather than fail its message until poison.
    /// </summary>
    public static async Task<IReadOnlyList<string>?> FindAsync(ISecretStore store, Webhook webhook, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var name = SecretNames.ForWebhook(webhook.Id);
        if (await store.GetAsync(name, webhook.SecretVersion, cancellationToken) is not { } current)
        {
            return null;
        }

        var secrets = new List<string> { current };
        if (webhook.PreviousSecretVersion is { } previous && webhook.PreviousSecretExpiresAt > now
            && await store.GetAsync(name, previous, cancellationToken) is { } previousSecret)
        {
            secrets.Add(previousSecret);
        }

        return secrets;
    }
}
