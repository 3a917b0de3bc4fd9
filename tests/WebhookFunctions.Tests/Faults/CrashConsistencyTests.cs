using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Maintenance;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Signing;
using WebhookFunctions.Core.Webhooks;
using WebhookFunctions.Tests.Infrastructure;
using WebhookFunctions.Tests.Maintenance;
using Xunit.Abstractions;

namespace WebhookFunctions.Tests.Faults;

/// <summary>A host process killed with SIGKILL in the middle of creating webhooks, then started again.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class CrashConsistencyTests(ApiFixture fixture, ITestOutputHelper output)
{
    private const int Workers = 8;
    private const int CreatesBeforeKill = 40;
    private static readonly TimeSpan CreatesDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_host_killed_mid_create_loses_no_acknowledged_webhook_shows_none_without_its_secret_and_sweeps_the_orphans()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var store = fixture.Host.Secrets.Inner;
        var repository = fixture.Host.Services.GetRequiredService<WebhookRepository>();
        var acknowledged = new ConcurrentBag<(string Id, string Secret)>();

        await using (var doomed = await HostProcess.StartAsync(fixture.ConnectionString, "Webhooks:MaxPerApplication=1000"))
        {
            using var stop = new CancellationTokenSource();
            var loops = Enumerable.Range(0, Workers).Select(_ => CreateUntilKilledAsync(doomed.BaseAddress, tenant, acknowledged, stop.Token)).ToList();
            try
            {
                await WaitForCreatesAsync(acknowledged, loops);
            }
            finally
            {
                await doomed.KillAsync();
                await stop.CancelAsync();
            }

            await Task.WhenAll(loops);
        }

        await PlantOrphanAsync(store, tenant);
        var orphansAfterKill = await OrphansOfAsync(store, repository, tenant);
        output.WriteLine($"{acknowledged.Count} creates acknowledged before SIGKILL; {orphansAfterKill.Count - 1} orphan secrets left by the kill, plus 1 planted");

        await using var restarted = await HostProcess.StartAsync(fixture.ConnectionString,
            "Sweep:IntervalSeconds=1", "Sweep:MinimumAgeSeconds=1", "Api:RequestTimeoutSeconds=2");
        using var client = new HttpClient { BaseAddress = restarted.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);

        foreach (var (id, secret) in acknowledged)
        {
            using var get = await client.GetAsync(tenant.WebhookPath(id));
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(SigningSecret.Fingerprint(secret), (await get.BodyAsync()).GetProperty("keyFingerprint").GetString());
            Assert.Equal(secret, await store.GetAsync(SecretNames.ForWebhook(id), null, CancellationToken.None));
        }

        var visible = await ListAllAsync(client, tenant);
        Assert.True(visible.Count >= acknowledged.Count);
        foreach (var id in visible)
        {
            var entity = (await repository.FindAsync(tenant.MerchantId, tenant.ApplicationId, id, CancellationToken.None))!;
            var secret = await store.GetAsync(SecretNames.ForWebhook(id), entity.Webhook.SecretVersion, CancellationToken.None);
            Assert.True(secret is not null, $"webhook {id} is visible without its secret");
            Assert.Equal(entity.Webhook.KeyFingerprint, SigningSecret.Fingerprint(secret));
        }

        var remaining = orphansAfterKill;
        for (var attempt = 0; attempt < 150 && remaining.Count > 0; attempt++)
        {
            await Task.Delay(100);
            remaining = await OrphansOfAsync(store, repository, tenant);
        }

        Assert.Empty(remaining);
    }

    /// <summary>Until enough creates are acknowledged to kill mid-stream; fails instead of waiting forever.</summary>
    private static async Task WaitForCreatesAsync(ConcurrentBag<(string, string)> acknowledged, List<Task> loops)
    {
        var waited = Stopwatch.StartNew();
        while (acknowledged.Count < CreatesBeforeKill)
        {
            if (loops.All(loop => loop.IsCompleted))
            {
                // A loop that failed an assertion says why; otherwise every create failed at the transport.
                await Task.WhenAll(loops);
                Assert.Fail($"every create loop ended with {acknowledged.Count} of {CreatesBeforeKill} creates acknowledged, before the kill");
            }

            Assert.True(waited.Elapsed < CreatesDeadline,
                $"only {acknowledged.Count} of {CreatesBeforeKill} creates acknowledged within {CreatesDeadline.TotalSeconds} s: the host is not taking creates");
            await Task.Delay(10);
        }
    }

    private static async Task CreateUntilKilledAsync(Uri host, Tenant tenant, ConcurrentBag<(string, string)> acknowledged, CancellationToken stop)
    {
        using var client = new HttpClient { BaseAddress = host, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await client.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }), stop);
                var body = await response.BodyAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Created, $"create answered {(int)response.StatusCode}: {body}");
                acknowledged.Add((body.GetProperty("id").GetString()!, body.GetProperty("signingSecret").GetString()!));
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException or IOException)
            {
                // The host died under this request: its outcome is unknown, which is what the test is about.
                return;
            }
        }
    }

    private static async Task<List<string>> ListAllAsync(HttpClient client, Tenant tenant)
    {
        var ids = new List<string>();
        string? token = null;
        do
        {
            using var page = await client.GetAsync($"{tenant.WebhooksPath}?limit=100" + (token is null ? "" : "&pageToken=" + Uri.EscapeDataString(token)));
            var body = await page.BodyAsync();
            ids.AddRange(body.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("id").GetString()!));
            token = body.GetProperty("nextPageToken").GetString();
        }
        while (token is not null);

        return ids;
    }

    private static async Task<List<string>> OrphansOfAsync(ISecretStore store, WebhookRepository repository, Tenant tenant)
    {
        var orphans = new List<string>();
        await foreach (var secret in store.ListAsync(SecretNames.WebhookPrefix, CancellationToken.None))
        {
            if (secret.Tags.GetValueOrDefault("merchantId") == tenant.MerchantId
                && await repository.FindAsync(tenant.MerchantId, tenant.ApplicationId, secret.Tags["webhookId"], CancellationToken.None) is null)
            {
                orphans.Add(secret.Name);
            }
        }

        return orphans;
    }

    private static Task<string> PlantOrphanAsync(ISecretStore store, Tenant tenant) => OrphanSweepTests.PlantOrphanAsync(store, tenant);
}
