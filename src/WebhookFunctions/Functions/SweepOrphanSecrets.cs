using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Api.Maintenance;

namespace WebhookFunctions.Functions;

/// <summary>Hourly, the sweep the standalone host runs as a hosted service: removes secrets whose create never finished.</summary>
public sealed class SweepOrphanSecrets(OrphanSecretSweeper sweeper)
{
    [Function(nameof(SweepOrphanSecrets))]
    public Task Run([TimerTrigger("0 17 * * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        sweeper.SweepAsync(cancellationToken);
}
