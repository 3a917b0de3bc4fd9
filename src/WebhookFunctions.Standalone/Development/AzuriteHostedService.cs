using Microsoft.Extensions.Options;
using WebhookFunctions.Development;

namespace WebhookFunctions.Standalone.Development;

/// <summary>
/// Starts Azurite for a local run unless one is already listening, and stops what it started.
/// If the Azurite it started dies, on start or later, the host says why and stops with a failure:
/// quietly carrying on would mean using whatever else answers on the port, or no storage at all.
/// </summary>
public sealed class AzuriteHostedService(
    IOptions<DevelopmentOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<AzuriteHostedService> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private AzuriteProcess? _azurite;
    private Task _watch = Task.CompletedTask;

    /// <summary>True once the Azurite this host started has died; the process should then exit non-zero.</summary>
    public bool Failed { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (await AzuriteProcess.IsListeningAsync(settings.AzuriteTablePort, cancellationToken))
        {
            logger.LogInformation("Using the Azurite already listening on port {Port}", settings.AzuriteTablePort);
            return;
        }

        var tools = AzuriteProcess.FindToolDirectory(AppContext.BaseDirectory) ?? AzuriteProcess.FindToolDirectory(Directory.GetCurrentDirectory())
            ?? throw new InvalidOperationException("tools/azurite was not found above the app; run from the repository, or start Azurite yourself.");
        var repositoryRoot = Path.GetFullPath(Path.Combine(tools, "..", ".."));
        var data = Path.Combine(repositoryRoot, settings.AzuriteDataDirectory);
        logger.LogInformation("Nothing listens on port {Port}; starting Azurite with data in {DataDirectory}", settings.AzuriteTablePort, data);
        try
        {
            _azurite = await AzuriteProcess.StartAsync(tools, settings.AzuriteTablePort, data, accounts: null, Console.Out, cancellationToken,
                queuePort: settings.AzuriteQueuePort, blobPort: settings.AzuriteBlobPort);
        }
        catch (AzuriteExitedException exception)
        {
            Failed = true;
            logger.LogError(
                "Azurite exited with code {ExitCode} before it was listening on port {Port}, so this host stops. If another process took the port after it was checked, stop that process or start again to use it. Its last output:{NewLine}{Output}",
                exception.ExitCode, settings.AzuriteTablePort, Environment.NewLine, exception.OutputTail);
            throw;
        }
        catch (InvalidOperationException exception)
        {
            Failed = true;
            logger.LogError("Azurite could not be started on port {Port}, so this host stops: {Reason}", settings.AzuriteTablePort, exception.Message);
            throw;
        }

        logger.LogInformation("Started Azurite (process {ProcessId}) on port {Port} with data in {DataDirectory}", _azurite.ProcessId, settings.AzuriteTablePort, data);
        _watch = WatchAsync(_azurite);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        // Cancel the watch first: the exit that follows is ours, not a failure.
        await _stopping.CancelAsync();
        await _watch;
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
            _azurite = null;
        }
    }

    private async Task WatchAsync(AzuriteProcess azurite)
    {
        try
        {
            await azurite.WaitForExitAsync(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        // Ctrl+C in a terminal reaches Azurite as well as this host, and Azurite may be gone before
        // the host has begun to stop: that is a shutdown, not a failure.
        if (await StoppingWithinAsync(TimeSpan.FromSeconds(2)))
        {
            return;
        }

        Failed = true;
        logger.LogError(
            "Azurite (process {ProcessId}) on port {Port} exited with code {ExitCode} while this host was using it; stopping the host. Its last output:{NewLine}{Output}",
            azurite.ProcessId, azurite.Port, azurite.ExitCode, Environment.NewLine, azurite.OutputTail);
        lifetime.StopApplication();
    }

    private async Task<bool> StoppingWithinAsync(TimeSpan grace)
    {
        try
        {
            await Task.Delay(grace, lifetime.ApplicationStopping);
            return _stopping.IsCancellationRequested;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }
}
