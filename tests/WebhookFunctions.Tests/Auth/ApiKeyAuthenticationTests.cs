using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Auth;

[Collection(ApiTestGroup.Name)]
public sealed class ApiKeyAuthenticationTests(ApiFixture fixture)
{
    [Fact]
    public async Task Every_kind_of_bad_key_gets_the_same_401()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var keys = fixture.Host.Services.GetRequiredService<ApiKeyService>();
        var revoked = await keys.CreateAsync(tenant.MerchantId, "to revoke", null, CancellationToken.None);
        await keys.RevokeAsync(tenant.MerchantId, revoked.Id, allowLastActive: true, CancellationToken.None);
        var valid = tenant.ApiKey;
        var badChecksum = valid[..^1] + (valid[^1] == 'a' ? 'b' : 'a');
        var unknown = ApiKeyFormat.Generate();

        var headers = new (string Name, AuthenticationHeaderValue? Header)[]
        {
            ("missing", null),
            ("not bearer", new AuthenticationHeaderValue("Basic", "dXNlcjpwYXNz")),
            ("empty bearer", new AuthenticationHeaderValue("Bearer", " ")),
            ("malformed", new AuthenticationHeaderValue("Bearer", "wk_live_short")),
            ("bad checksum", new AuthenticationHeaderValue("Bearer", badChecksum)),
            ("unknown", new AuthenticationHeaderValue("Bearer", unknown)),
            ("revoked", new AuthenticationHeaderValue("Bearer", revoked.Key)),
        };

        var bodies = new List<string>();
        foreach (var (_, header) in headers)
        {
            using var client = fixture.Host.Client();
            client.DefaultRequestHeaders.Authorization = header;
            using var response = await client.GetAsync(tenant.WebhooksPath);
            var body = await response.AssertErrorAsync(401);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            bodies.Add(body.GetProperty("message").GetString() + "|" + body.GetProperty("error").GetString());
        }

        Assert.Single(bodies.Distinct());
    }

    [Fact]
    public async Task A_key_with_a_bad_checksum_is_refused_before_any_storage_request_and_an_unknown_key_costs_one()
    {
        // Storage behind a proxy that counts what reaches Azurite, for this host alone.
        await using var proxy = new TcpProxy(fixture.AzuritePort);
        await using var host = await TestHost.StartAsync(
            fixture.ConnectionString.Replace($":{fixture.AzuritePort}/", $":{proxy.Port}/", StringComparison.Ordinal), null);
        var tenant = await host.NewTenantAsync();
        var badChecksum = tenant.ApiKey[..^1] + (tenant.ApiKey[^1] == 'a' ? 'b' : 'a');
        Assert.True(proxy.Requests > 0, "the host's storage requests do not go through the proxy");

        var beforeBad = proxy.Requests;
        using var bad = host.Client(badChecksum);
        using var badResponse = await bad.GetAsync(tenant.WebhooksPath);
        var afterBad = proxy.Requests;
        using var unknown = host.Client(ApiKeyFormat.Generate());
        using var unknownResponse = await unknown.GetAsync(tenant.WebhooksPath);
        var afterUnknown = proxy.Requests;

        await badResponse.AssertErrorAsync(401);
        await unknownResponse.AssertErrorAsync(401);
        Assert.Equal(0, afterBad - beforeBad);
        Assert.Equal(1, afterUnknown - afterBad);
    }

    [Fact]
    public async Task Unauthenticated_requests_get_401_on_every_keyed_route()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        using var anonymous = fixture.Host.Client();
        var webhook = tenant.WebhookPath("0193f1c2-0000-7000-8000-000000000000");

        var requests = new[]
        {
            new HttpRequestMessage(HttpMethod.Post, tenant.WebhooksPath) { Content = Http.Json(new { url = Http.UniqueUrl() }) },
            new HttpRequestMessage(HttpMethod.Get, tenant.WebhooksPath),
            new HttpRequestMessage(HttpMethod.Get, webhook),
            new HttpRequestMessage(HttpMethod.Patch, webhook) { Content = Http.Json(new { isActive = false }) },
            new HttpRequestMessage(HttpMethod.Delete, webhook),
            new HttpRequestMessage(HttpMethod.Get, "/api/v1/event-types"),
        };

        foreach (var request in requests)
        {
            using (request)
            {
                using var response = await anonymous.SendAsync(request);
                await response.AssertErrorAsync(401);
            }
        }
    }

    [Fact]
    public async Task A_revoked_key_fails_at_once_on_the_instance_that_revoked_it()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var keys = fixture.Host.Services.GetRequiredService<ApiKeyService>();
        using var before = await tenant.Http.GetAsync(tenant.WebhooksPath);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await keys.RevokeAsync(tenant.MerchantId, tenant.KeyId, allowLastActive: true, CancellationToken.None);
        using var after = await tenant.Http.GetAsync(tenant.WebhooksPath);

        await after.AssertErrorAsync(401);
    }

    [Fact]
    public async Task A_key_revoked_elsewhere_fails_once_the_cache_time_has_passed()
    {
        // Its own host, whose clock this test moves: the cache must follow that clock, not the machine's.
        await using var other = await fixture.StartHostAsync("Auth:CacheSeconds=30");
        var tenant = await fixture.Host.NewTenantAsync();
        using var client = other.Client(tenant.ApiKey);
        using var before = await client.GetAsync(tenant.WebhooksPath);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        // Revoked through the default host: the other instance still holds the key in its cache.
        await fixture.Host.Services.GetRequiredService<ApiKeyService>().RevokeAsync(tenant.MerchantId, tenant.KeyId, true, CancellationToken.None);
        other.Clock.Advance(TimeSpan.FromSeconds(29));
        using var cached = await client.GetAsync(tenant.WebhooksPath);
        other.Clock.Advance(TimeSpan.FromSeconds(2));
        using var after = await client.GetAsync(tenant.WebhooksPath);

        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        await after.AssertErrorAsync(401);
    }

    [Fact]
    public async Task An_expired_key_is_refused()
    {
        await using var host = await fixture.StartHostAsync();
        var tenant = await host.NewTenantAsync();
        var keys = host.Services.GetRequiredService<ApiKeyService>();
        var expiring = await keys.CreateAsync(tenant.MerchantId, "short-lived", host.Clock.GetUtcNow().AddHours(1), CancellationToken.None);
        using var client = host.Client(expiring.Key);
        using var before = await client.GetAsync(tenant.WebhooksPath);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        host.Clock.Advance(TimeSpan.FromHours(2));
        using var after = await client.GetAsync(tenant.WebhooksPath);

        await after.AssertErrorAsync(401);
    }

    [Fact]
    public async Task Last_use_is_recorded_at_most_once_a_minute()
    {
        await using var host = await fixture.StartHostAsync();
        var tenant = await host.NewTenantAsync();
        var keys = host.Services.GetRequiredService<ApiKeyService>();

        using (await tenant.Http.GetAsync(tenant.WebhooksPath))
        {
        }

        var first = (await keys.ListAsync(tenant.MerchantId, 100, null, CancellationToken.None)).Items.Single().LastUsedAt;
        using (await tenant.Http.GetAsync(tenant.WebhooksPath))
        {
        }

        var second = (await keys.ListAsync(tenant.MerchantId, 100, null, CancellationToken.None)).Items.Single().LastUsedAt;
        host.Clock.Advance(TimeSpan.FromSeconds(61));
        using (await tenant.Http.GetAsync(tenant.WebhooksPath))
        {
        }

        var third = (await keys.ListAsync(tenant.MerchantId, 100, null, CancellationToken.None)).Items.Single().LastUsedAt;

        Assert.NotNull(first);
        Assert.Equal(first, second);
        Assert.True(third > first);
    }

    [Fact]
    public void Generated_keys_have_the_documented_shape_and_a_checksum_that_catches_typos()
    {
        var key = ApiKeyFormat.Generate();

        Assert.Equal(57, key.Length);
        Assert.StartsWith("wk_live_", key, StringComparison.Ordinal);
        Assert.True(key[8..].All(char.IsAsciiLetterOrDigit));
        Assert.True(ApiKeyFormat.IsWellFormed(key));
        for (var i = 8; i < key.Length; i++)
        {
            var typo = key[..i] + (key[i] == 'x' ? 'y' : 'x') + key[(i + 1)..];
            Assert.False(ApiKeyFormat.IsWellFormed(typo), $"typo at {i} passed the checksum");
        }

        Assert.NotEqual(key, ApiKeyFormat.Generate());
    }
}
