namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// For tests that send deliveries: a host allowed to reach loopback and a fresh receiver per test.
/// </summary>
public abstract class LocalDeliveryTests(ApiFixture fixture) : IAsyncLifetime
{
    protected ApiFixture Fixture { get; } = fixture;

    protected TestHost Host { get; private set; } = null!;

    protected Receiver Receiver { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await Fixture.StartLocalDeliveryHostAsync();
        Receiver = await Receiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await Host.DisposeAsync();
    }
}
