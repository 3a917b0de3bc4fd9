using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Maintenance;

namespace WebhookFunctions.Functions;

/// <summary>Hourly, the sweep the standalone host runs as a hosted service: removes secrets whose create never finished.</summary>
public sealed class SweepOrphanSecrets(OrphanSecretSweeper sweeper)
{
    [Function(BackgroundFunctions.SweepOrphanSecrets)]
    public Task Run([TimerTrigger(BackgroundFunctions.SweepOrphanSecretsSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        sweeper.SweepAsync(cancellationToken);
}
