using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Verification;

/// <summary>
/// Asks for a challenge to be sent, after the row that names its nonce was written: the message is the durable
/// record that one is owed, and the challenge processor (a queue function, or the standalone host's worker) sends it.
/// </summary>
public sealed class VerificationRequests(DeliveryQueues queues, ILogger<VerificationRequests> logger)
{
    /// <summary>Never fails the request that wrote the row: the webhook exists, and VerifyWebhook asks again.</summary>
    public async Task RequestQuietlyAsync(Webhook webhook, CancellationToken cancellationToken)
    {
        if (webhook.VerificationStatus != VerificationStatus.Pending || webhook.VerificationNonce is not { } nonce)
        {
            return;
        }

        try
        {
            await RequestAsync(webhook, nonce, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning("Could not queue the challenge for webhook {WebhookId} ({ExceptionType}); VerifyWebhook sends one",
                webhook.Id, exception.GetType().Name);
        }
    }

    public Task RequestAsync(Webhook webhook, string nonce, CancellationToken cancellationToken) =>
        queues.Verifications.SendMessageAsync(
            DeliveryQueues.Serialize(new VerificationMessage(webhook.MerchantId, webhook.ApplicationId, webhook.Id, nonce)), cancellationToken);
}
