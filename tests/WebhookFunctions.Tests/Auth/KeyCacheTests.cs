using System.Net;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Auth;

/// <summary>The key cache seen from outside: what reaches storage, and what a revoke leaves behind.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class KeyCacheTests(ApiFixture fixture)
{
    private async Task<(TcpProxy Proxy, TestHost Host)> StartBehindProxyAsync()
    {
        var proxy = new TcpProxy(fixture.AzuritePort);
        var host = await TestHost.StartAsync(
            fixture.ConnectionString.Replace($":{fixture.AzuritePort}/", $":{proxy.Port}/", StringComparison.Ordinal), null);
        return (proxy, host);
    }

    [Fact]
    public async Task A_lookup_that_read_the_key_before_its_revoke_does_not_put_it_back_in_the_cache()
    {
        var (proxy, host) = await StartBehindProxyAsync();
        await using var _ = proxy;
        await using var __ = host;
        var tenant = await host.NewTenantAsync();
        using var create = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "revoked while looked up" }));
        var created = await create.BodyAsync();
        var keyId = created.GetProperty("id").GetString()!;
        using var revokedClient = host.Client(created.GetProperty("key").GetString());

        // The key's first, uncached lookup reads its row before the revoke; storage's answer reaches
        // the host only after the revoke has answered 204.
        var keyRow = proxy.Watch(keyId);
        keyRow.DelayNextResponse(TimeSpan.FromSeconds(1.5));
        var inFlight = revokedClient.GetAsync(tenant.WebhooksPath);
        await keyRow.FirstSeen.WaitAsync(TimeSpan.FromSeconds(10));
        using var revoke = await tenant.Http.DeleteAsync($"/api/v1/api-keys/{keyId}");
        using var begunBefore = await inFlight.WaitAsync(TimeSpan.FromSeconds(10));
        using var after = await revokedClient.GetAsync(tenant.WebhooksPath);

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        await after.AssertErrorAsync(401);
    }

    [Fact]
    public async Task An_unknown_key_costs_one_storage_read_for_a_few_seconds_not_one_per_request()
    {
        var (proxy, host) = await StartBehindProxyAsync();
        await using var _ = proxy;
        await using var __ = host;
        var tenant = await host.NewTenantAsync();
        var unknown = ApiKeyFormat.Generate();
        var lookups = proxy.Watch(Convert.ToHexStringLower(ApiKeyFormat.Hash(unknown)));
        using var client = host.Client(unknown);

        for (var i = 0; i < 10; i++)
        {
            using var response = await client.GetAsync(tenant.WebhooksPath);
            await response.AssertErrorAsync(401);
        }

        var withinAFewSeconds = lookups.Requests;
        host.Clock.Advance(TimeSpan.FromSeconds(6));
        using var later = await client.GetAsync(tenant.WebhooksPath);
        using var known = await tenant.Http.GetAsync(tenant.WebhooksPath);

        Assert.Equal(1, withinAFewSeconds);
        await later.AssertErrorAsync(401);
        Assert.Equal(2, lookups.Requests);
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
    }
}
