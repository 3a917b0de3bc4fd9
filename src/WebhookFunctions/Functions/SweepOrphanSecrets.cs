using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Maintenance;

namespace WebhookFunctions.Functions;

/// <summary>
/// Hourly, the sweep the standalone host runs as a hosted service: removes secrets whose create never
/// finished, then idempotency records past their 24 hours.
/// </summary>
public sealed class SweepOrphanSecrets(OrphanSecretSweeper sweeper, IdempotencyPurger purger)
{
    [Function(BackgroundFunctions.SweepOrphanSecrets)]
    public async Task Run([TimerTrigger(BackgroundFunctions.SweepOrphanSecretsSchedule)] TimerInfo timer, CancellationToken cancellationToken)
    {
        try
        {
            await sweeper.SweepAsync(cancellationToken);
        }
        finally
        {
            // A failed sweep still purges; the failure is still reported to the host.
            await purger.PurgeAsync(cancellationToken);
        }
    }
}
