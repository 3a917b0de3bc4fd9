using Microsoft.Extensions.Options;
using WebhookFunctions.Development;

namespace WebhookFunctions.Standalone.Development;

/// <summary>Starts Azurite for a local run unless one is already listening, and stops what it started.</summary>
public sealed class AzuriteHostedService(IOptions<DevelopmentOptions> options, ILogger<AzuriteHostedService> logger) : IHostedService, IAsyncDisposable
{
    private AzuriteProcess? _azurite;

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
        _azurite = await AzuriteProcess.StartAsync(tools, settings.AzuriteTablePort, data, accounts: null, Console.Out, cancellationToken);
        logger.LogInformation("Started Azurite on port {Port} with data in {DataDirectory}", settings.AzuriteTablePort, data);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
            _azurite = null;
        }
    }
}
