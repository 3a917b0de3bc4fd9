using System.Security.Cryptography;
using WebhookFunctions.Development;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// One Azurite for the whole run: in memory, on a free port, with an account key made up for this
/// run (so no well-known key is written anywhere), and one standalone host over it. Tests that need
/// other settings start their own host on the same Azurite.
/// </summary>
public sealed class ApiFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    public string ConnectionString { get; private set; } = string.Empty;

    public TestHost Host { get; private set; } = null!;

    public int AzuritePort => _azurite!.Port;

    public int AzuriteQueuePort => _azurite!.QueuePort!.Value;

    public async Task InitializeAsync()
    {
        (_azurite, ConnectionString) = await StartAzuriteAsync();
        Host = await StartHostAsync();
        // Time moved on the shared host would leak into every later test (expiries, caches, grace periods).
        Host.Clock.Lock("The shared host's clock never moves: start a host of your own (StartHostAsync) to move time.");
    }

    /// <summary>
    /// An Azurite of its own (table, queue and blob), empty: for a measurement that must not share its
    /// storage with what every earlier test left in the run's Azurite.
    /// </summary>
    public static async Task<(AzuriteProcess Azurite, string ConnectionString)> StartAzuriteAsync()
    {
        var tools = AzuriteProcess.FindToolDirectory(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("tools/azurite not found above the test output folder.");
        var accountKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var azurite = await AzuriteProcess.StartAsync(tools, AzuriteProcess.FreePort(), dataDirectory: null,
            accounts: $"devstoreaccount1:{accountKey}", log: null, CancellationToken.None,
            queuePort: AzuriteProcess.FreePort(), blobPort: AzuriteProcess.FreePort());
        return (azurite, azurite.ConnectionString(accountKey));
    }

    /// <summary>Starts another standalone host on this Azurite; <paramref name="settings"/> are <c>Key=value</c> overrides.</summary>
    public Task<TestHost> StartHostAsync(params string[] settings) => TestHost.StartAsync(ConnectionString, null, settings);

    /// <summary>A host that may send test deliveries to a receiver on loopback.</summary>
    public Task<TestHost> StartLocalDeliveryHostAsync(params string[] settings) =>
        StartHostAsync([.. settings, "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true"]);

    /// <summary>
    /// A host that delivers events to receivers on loopback, with its own queues so that no other
    /// host's workers take its messages, and a retry schedule short enough for a test.
    /// </summary>
    public Task<TestHost> StartDeliveryHostAsync(params string[] settings) =>
        StartLocalDeliveryHostAsync(
        [
            "Delivery:RunWorkers=true",
            $"Delivery:QueuePrefix=t{Guid.NewGuid():N}",
            "Delivery:RetrySchedule=200ms,200ms,200ms",
            "Delivery:RetryJitter=0",
            "Delivery:TimeoutSeconds=2",
            .. settings,
        ]);

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ApiTestGroup : ICollectionFixture<ApiFixture>
{
    public const string Name = "api";
}
