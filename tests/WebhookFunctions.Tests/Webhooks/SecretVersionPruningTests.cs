using System.Net;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

/// <summary>
/// Rotation keeps the current and the previous secret version and retires older ones, on both
/// stores, so a webhook rotated a hundred times does not hold a hundred versions.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class SecretVersionPruningTests(ApiFixture fixture)
{
    private static readonly string[] LocalDelivery = ["Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true"];

    private static async Task<int> LocalRowsAsync(TestHost host, string name)
    {
        var count = 0;
        var table = host.Services.GetRequiredService<Tables>().LocalSecrets;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {name}"), select: ["RowKey"]))
        {
            count++;
        }

        return count;
    }

    private static async Task<string> RotateAsync(Tenant tenant, string path)
    {
        using var response = await tenant.Http.PostAsync(path + "/rotate-secret", Http.Json(new { gracePeriodSeconds = 3600 }));
        var body = await response.BodyAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return body.GetProperty("signingSecret").GetString()!;
    }

    /// <summary>Rotates <paramref name="rotations"/> times, then checks what the store holds and that a delivery still carries both live signatures.</summary>
    private static async Task AssertOnlyCurrentAndPreviousRemainAsync(TestHost host, Receiver receiver, int rotations, Func<string, Task<int>> usableVersions)
    {
        var tenant = await host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok") + "?" + Guid.NewGuid().ToString("N") });
        var id = created.GetProperty("id").GetString()!;
        var path = tenant.WebhookPath(id);
        var previous = created.GetProperty("signingSecret").GetString()!;
        var current = previous;

        for (var i = 0; i < rotations; i++)
        {
            // Each version is minutes old by the next rotation, past the window in which a concurrent rotation may still adopt it.
            host.Clock.Advance(TimeSpan.FromMinutes(2));
            previous = current;
            current = await RotateAsync(tenant, path);
        }

        var usable = await usableVersions("whsec-" + id);
        using var test = await tenant.Http.PostAsync(path + "/test", null);
        Assert.Equal("SUCCEEDED", (await test.BodyAsync()).GetProperty("status").GetString());
        var delivery = receiver.Deliveries.Last();

        Assert.True(usable == 2, $"{usable} usable versions after {rotations} rotations; expected the current and the previous one");
        Assert.Equal(2, delivery.Signatures.Split(' ').Length);
        Assert.True(delivery.VerifiesWith(current));
        Assert.True(delivery.VerifiesWith(previous));
    }

    [Fact]
    public async Task The_local_store_keeps_only_the_current_and_previous_versions()
    {
        await using var host = await fixture.StartHostAsync(LocalDelivery);
        await using var receiver = await Receiver.StartAsync();

        await AssertOnlyCurrentAndPreviousRemainAsync(host, receiver, 8, name => LocalRowsAsync(host, name));
    }

    [Fact]
    public async Task Key_vault_disables_all_but_the_current_and_previous_versions()
    {
        await using var vault = await FakeKeyVault.StartAsync();
        await using var host = await TestHost.StartAsync(fixture.ConnectionString, vault.Configure, [.. vault.Settings(), .. LocalDelivery]);
        await using var receiver = await Receiver.StartAsync();

        await AssertOnlyCurrentAndPreviousRemainAsync(host, receiver, 8, name => Task.FromResult(vault.EnabledVersionsOf(name).Count));
    }

    [Fact]
    public async Task Versions_young_enough_to_be_in_flight_are_never_retired()
    {
        // Two rotations of one webhook can overlap: the older one may still make its version current
        // after the newer one is done, so a version is retired only once no rotation can still adopt it.
        await using var host = await fixture.StartHostAsync();
        var tenant = await host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var id = created.GetProperty("id").GetString()!;

        for (var i = 0; i < 3; i++)
        {
            await RotateAsync(tenant, tenant.WebhookPath(id));
        }

        Assert.Equal(4, await LocalRowsAsync(host, "whsec-" + id));
    }
}
