using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Maintenance;

namespace WebhookFunctions.Standalone.Maintenance;

/// <summary>
/// The standalone host's counterpart of the Functions app's timer: runs the same sweep every
/// <see cref="SweepOptions.IntervalSeconds"/>, starting one interval after start-up.
/// </summary>
public sealed class OrphanSecretSweepService(
    OrphanSecretSweeper sweeper, IOptions<SweepOptions> options, TimeProvider clock, ILogger<OrphanSecretSweepService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.IntervalSeconds), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await sweeper.SweepAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A failed sweep is retried on the next tick; it must never take the host down.
                logger.LogWarning("Orphan-secret sweep failed ({ExceptionType}); retrying in {Seconds} s", exception.GetType().Name, options.Value.IntervalSeconds);
            }
        }
    }
}
