using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Maintenance;

public sealed record SweepResult(int Examined, int Removed, int Skipped);

/// <summary>
/// Create writes the secret before the record, so a host that dies between the two leaves a secret
/// with no webhook. This finds such secrets by their tags and removes them once they are old enough
/// that no create can still be in flight. The timer function and the standalone host's hosted
/// service both call it.
/// </summary>
public sealed class OrphanSecretSweeper(
    ISecretStore secrets,
    WebhookRepository webhooks,
    TimeProvider clock,
    IOptions<SweepOptions> options,
    IOptions<ApiOptions> apiOptions,
    ILogger<OrphanSecretSweeper> logger)
{
    /// <summary>Never less than twice the request deadline, whatever is configured: a create in flight is never swept.</summary>
    private readonly TimeSpan _minimumAge = TimeSpan.FromSeconds(Math.Max(options.Value.MinimumAgeSeconds, 2 * apiOptions.Value.RequestTimeoutSeconds));

    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - _minimumAge;
        int examined = 0, removed = 0, skipped = 0;
        await foreach (var secret in secrets.ListAsync(SecretNames.WebhookPrefix, cancellationToken))
        {
            examined++;
            if (secret.UpdatedAt > cutoff)
            {
                continue;
            }

            if (!TryOwner(secret, out var merchantId, out var applicationId, out var webhookId))
            {
                // Not something this product wrote in a shape it understands: never delete it.
                skipped++;
                logger.LogWarning("Sweep left secret {SecretName} alone: its tags do not name a webhook", secret.Name);
                continue;
            }

            if (await webhooks.FindAsync(merchantId, applicationId, webhookId, cancellationToken) is not null)
            {
                continue;
            }

            try
            {
                await secrets.DeleteAsync(secret.Name, cancellationToken);
                removed++;
                logger.LogInformation("Sweep removed orphan secret {SecretName} of merchant {MerchantId}", secret.Name, merchantId);
            }
            catch (RequestFailedException exception)
            {
                skipped++;
                logger.LogWarning("Sweep could not remove {SecretName}: {Status}", secret.Name, exception.Status);
            }
        }

        logger.LogInformation("Sweep examined {Examined} secrets, removed {Removed}, skipped {Skipped}", examined, removed, skipped);
        return new SweepResult(examined, removed, skipped);
    }

    private static bool TryOwner(StoredSecret secret, out string merchantId, out string applicationId, out string webhookId)
    {
        merchantId = secret.Tags.GetValueOrDefault("merchantId") ?? string.Empty;
        applicationId = secret.Tags.GetValueOrDefault("applicationId") ?? string.Empty;
        webhookId = secret.Tags.GetValueOrDefault("webhookId") ?? string.Empty;
        return Ids.IsValid(merchantId) && Ids.IsValid(applicationId) && Ids.IsValid(webhookId)
            && secret.Name == SecretNames.ForWebhook(webhookId);
    }
}
