using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Maintenance;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Signing;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Maintenance;

/// <summary>The sweep, on both secret stores: orphans old enough go, everything else stays.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class OrphanSweepTests(ApiFixture fixture)
{
    /// <summary>A secret as a create leaves it when its host dies before the record is written.</summary>
    internal static async Task<string> PlantOrphanAsync(ISecretStore store, Tenant tenant)
    {
        var webhookId = Ids.New();
        await store.SetAsync(SecretNames.ForWebhook(webhookId), SigningSecret.Generate(),
            SecretNames.Tags(tenant.MerchantId, tenant.ApplicationId, webhookId), CancellationToken.None);
        return SecretNames.ForWebhook(webhookId);
    }

    private static async Task AssertSweepsOnlyOldOrphansAsync(TestHost host)
    {
        var tenant = await host.NewTenantAsync();
        var live = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var liveName = SecretNames.ForWebhook(live.GetProperty("id").GetString()!);
        var store = host.Secrets.Inner;
        var orphan = await PlantOrphanAsync(store, tenant);
        var foreign = "whsec-not-one-of-ours";
        await store.SetAsync(foreign, "kept", new Dictionary<string, string> { ["owner"] = "someone else" }, CancellationToken.None);
        var sweeper = host.Services.GetRequiredService<OrphanSecretSweeper>();

        await sweeper.SweepAsync(CancellationToken.None);
        var youngOrphanKept = await store.GetAsync(orphan, null, CancellationToken.None);
        host.Clock.Advance(TimeSpan.FromMinutes(11));
        var result = await sweeper.SweepAsync(CancellationToken.None);

        Assert.NotNull(youngOrphanKept);
        Assert.Null(await store.GetAsync(orphan, null, CancellationToken.None));
        Assert.Equal(live.GetProperty("signingSecret").GetString(), await store.GetAsync(liveName, null, CancellationToken.None));
        Assert.Equal("kept", await store.GetAsync(foreign, null, CancellationToken.None));
        Assert.True(result.Removed >= 1);
        Assert.True(result.Skipped >= 1);
        await store.DeleteAsync(foreign, CancellationToken.None);
    }

    [Fact]
    public async Task The_local_store_sweep_removes_only_orphans_older_than_the_minimum_age()
    {
        await using var host = await fixture.StartHostAsync();
        await AssertSweepsOnlyOldOrphansAsync(host);
    }

    [Fact]
    public async Task The_key_vault_sweep_removes_only_orphans_older_than_the_minimum_age()
    {
        await using var vault = await FakeKeyVault.StartAsync();
        await using var host = await TestHost.StartAsync(fixture.ConnectionString, vault.Configure, vault.Settings());
        Assert.IsType<KeyVaultSecretStore>(host.Secrets.Inner);
        await AssertSweepsOnlyOldOrphansAsync(host);
    }

    [Fact]
    public async Task The_standalone_host_sweeps_on_its_own_schedule()
    {
        await using var host = await fixture.StartHostAsync("Sweep:IntervalSeconds=1", "Sweep:MinimumAgeSeconds=1", "Api:RequestTimeoutSeconds=1");
        var tenant = await host.NewTenantAsync();
        var orphan = await PlantOrphanAsync(host.Secrets.Inner, tenant);

        var gone = false;
        for (var attempt = 0; attempt < 100 && !gone; attempt++)
        {
            await Task.Delay(100);
            gone = await host.Secrets.Inner.GetAsync(orphan, null, CancellationToken.None) is null;
        }

        Assert.True(gone, "the hosted service did not sweep the orphan within 10 s");
    }
}
