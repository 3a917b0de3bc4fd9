using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Maintenance;

namespace WebhookFunctions.Standalone.Maintenance;

/// <summary>
/// The standalone host's counterpart of the Functions app's timer: runs the same sweep, and the
/// idempotency purge after it, every <see cref="SweepOptions.IntervalSeconds"/>, starting one
/// interval after start-up.
/// </summary>
public sealed class OrphanSecretSweepService(
    OrphanSecretSweeper sweeper,
    IdempotencyPurger purger,
    IOptions<SweepOptions> options,
    TimeProvider clock,
    ILogger<OrphanSecretSweepService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.IntervalSeconds), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunAsync("Orphan-secret sweep", sweeper.SweepAsync, stoppingToken);
            await RunAsync("Idempotency purge", purger.PurgeAsync, stoppingToken);
        }
    }

    /// <summary>Each job on its own: one failing never skips the other, and a failure is retried on the next tick.</summary>
    private async Task RunAsync<T>(string job, Func<CancellationToken, Task<T>> work, CancellationToken stoppingToken)
    {
        try
        {
            await work(stoppingToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // It must never take the host down.
            logger.LogWarning("{Job} failed ({ExceptionType}); retrying in {Seconds} s", job, exception.GetType().Name, options.Value.IntervalSeconds);
        }
    }
}
