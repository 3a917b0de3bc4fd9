using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace WebhookFunctions.Core.Storage;

/// <summary>
/// Creates the tables when a host starts. A storage outage at start-up is logged rather than fatal,
/// so the host still answers (with 502) and recovers when storage comes back.
/// </summary>
public sealed class TableInitializer(Tables tables, ILogger<TableInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await tables.CreateAllAsync(cancellationToken);
            logger.LogInformation("Tables ready at {Endpoint}", tables.Service.Uri);
        }
        catch (Exception exception) when (exception is Azure.RequestFailedException or HttpRequestException or OperationCanceledException or AggregateException)
        {
            logger.LogWarning("Could not create tables at {Endpoint} ({ExceptionType}); requests will fail with 502 until storage is reachable",
                tables.Service.Uri, exception.GetType().Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
