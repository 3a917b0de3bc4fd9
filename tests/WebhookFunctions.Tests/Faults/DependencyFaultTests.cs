using System.Diagnostics;
using System.Net;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Faults;

/// <summary>Storage behind a proxy that a test can take down or make hang, with the host kept running.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class DependencyFaultTests(ApiFixture fixture)
{
    private async Task<(TcpProxy Proxy, TestHost Host, Tenant Tenant)> StartBehindProxyAsync(params string[] settings)
    {
        var proxy = new TcpProxy(fixture.AzuritePort);
        var host = await TestHost.StartAsync(
            fixture.ConnectionString.Replace($":{fixture.AzuritePort}/", $":{proxy.Port}/", StringComparison.Ordinal), null, settings);
        var tenant = await host.NewTenantAsync();
        return (proxy, host, tenant);
    }

    [Fact]
    public async Task Storage_refusing_connections_gives_a_fast_502_and_the_host_recovers()
    {
        var (proxy, host, tenant) = await StartBehindProxyAsync();
        await using var _ = proxy;
        await using var __ = host;
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var path = tenant.WebhookPath(created.GetProperty("id").GetString()!);

        proxy.Refuse();
        var stopwatch = Stopwatch.StartNew();
        using var down = await tenant.Http.GetAsync(path);
        stopwatch.Stop();
        proxy.Resume();
        using var back = await tenant.Http.GetAsync(path);

        var error = await down.AssertErrorAsync(502);
        Assert.Equal("A downstream dependency responded with an error or could not be reached.", error.GetProperty("message").GetString());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }

    [Fact]
    public async Task Storage_that_accepts_and_never_answers_gives_504_within_the_deadline_plus_a_second()
    {
        var (proxy, host, tenant) = await StartBehindProxyAsync("Api:RequestTimeoutSeconds=3");
        await using var _ = proxy;
        await using var __ = host;

        proxy.Hang = true;
        proxy.Refuse();
        proxy.Resume();
        var stopwatch = Stopwatch.StartNew();
        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        stopwatch.Stop();

        var error = await response.AssertErrorAsync(504);
        Assert.Equal("A downstream dependency did not respond in time.", error.GetProperty("message").GetString());
        Assert.InRange(stopwatch.Elapsed.TotalSeconds, 2.5, 4);
    }

    [Fact]
    public async Task Storage_whose_every_try_times_out_gives_504_before_the_request_deadline()
    {
        // Each try gives up after a second and the client retries once, well inside the request's own 10 s:
        // the storage client then throws its own aggregate of timeouts, which is a 504 like the deadline's.
        var (proxy, host, tenant) = await StartBehindProxyAsync("Api:RequestTimeoutSeconds=10", "Storage:NetworkTimeoutSeconds=1", "Storage:MaxRetries=1");
        await using var _ = proxy;
        await using var __ = host;
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });

        proxy.Hang = true;
        proxy.Refuse();
        proxy.Resume();
        var stopwatch = Stopwatch.StartNew();
        using var response = await tenant.Http.GetAsync(tenant.WebhookPath(created.GetProperty("id").GetString()!));
        stopwatch.Stop();

        var error = await response.AssertErrorAsync(504);
        Assert.Equal("A downstream dependency did not respond in time.", error.GetProperty("message").GetString());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(8), $"took {stopwatch.Elapsed}");
    }
}
