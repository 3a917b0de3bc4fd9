using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Limits;

/// <summary>Quotas on stored things, held exactly under concurrency (spec §9).</summary>
[Collection(ApiTestGroup.Name)]
public sealed class QuotaTests(ApiFixture fixture)
{
    private const int Racers = 16;

    /// <summary>Starts every request at once, so they really contend for the same counter.</summary>
    private static async Task<List<(HttpStatusCode Status, string Body)>> RaceAsync(int count, Func<Task<HttpResponseMessage>> send)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(async _ =>
        {
            await start.Task;
            using var response = await send();
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }).ToList();
        start.SetResult();
        return [.. await Task.WhenAll(tasks)];
    }

    private static void AssertQuotaConflicts(IEnumerable<(HttpStatusCode Status, string Body)> refused, string setting)
    {
        foreach (var (status, body) in refused)
        {
            Assert.True(status == HttpStatusCode.Conflict, $"Expected 409, got {(int)status}: {body}");
            Assert.Contains(setting, JsonDocument.Parse(body).RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    private static async Task<List<string>> ListIdsAsync(Tenant tenant, string path)
    {
        using var response = await tenant.Http.GetAsync(path + "?limit=100");
        var page = await response.BodyAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];
    }

    [Fact]
    public async Task Racing_application_creates_stop_exactly_at_the_quota()
    {
        await using var host = await fixture.StartHostAsync("Limits:MaxApplicationsPerMerchant=6");
        var tenant = await host.NewTenantAsync();

        var results = await RaceAsync(Racers, () => tenant.Http.PostAsync("/api/v1/applications", Http.Json(new { name = "racer" })));
        var listed = await ListIdsAsync(tenant, "/api/v1/applications");

        Assert.Equal(5, results.Count(r => r.Status == HttpStatusCode.Created));
        AssertQuotaConflicts(results.Where(r => r.Status != HttpStatusCode.Created), "Limits:MaxApplicationsPerMerchant");
        Assert.Equal(6, listed.Count);
        Assert.All(listed, id => Assert.True(Ids.IsValid(id), id));
    }

    [Fact]
    public async Task Racing_key_creates_stop_exactly_at_the_active_key_quota_and_a_revoke_frees_a_slot()
    {
        await using var host = await fixture.StartHostAsync("Limits:MaxActiveKeysPerMerchant=6");
        var tenant = await host.NewTenantAsync();

        var results = await RaceAsync(Racers, () => tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "racer" })));
        var listed = await ListIdsAsync(tenant, "/api/v1/api-keys");
        var first = JsonDocument.Parse(results.First(r => r.Status == HttpStatusCode.Created).Body).RootElement.GetProperty("id").GetString();
        using var revoke = await tenant.Http.DeleteAsync($"/api/v1/api-keys/{first}");
        using var again = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "after revoke" }));
        using var full = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "one too many" }));

        Assert.Equal(5, results.Count(r => r.Status == HttpStatusCode.Created));
        AssertQuotaConflicts(results.Where(r => r.Status != HttpStatusCode.Created), "Limits:MaxActiveKeysPerMerchant");
        Assert.Equal(6, listed.Count);
        Assert.All(listed, id => Assert.True(Ids.IsValid(id), id));
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var error = await full.AssertErrorAsync(409);
        Assert.Contains("Limits:MaxActiveKeysPerMerchant", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_key_does_not_hold_a_slot()
    {
        await using var host = await fixture.StartHostAsync("Limits:MaxActiveKeysPerMerchant=2");
        var tenant = await host.NewTenantAsync();

        using var expiring = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "short", expiresAt = host.Clock.GetUtcNow().AddHours(1) }));
        using var full = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "full" }));
        host.Clock.Advance(TimeSpan.FromHours(2));
        using var freed = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "freed" }));

        Assert.Equal(HttpStatusCode.Created, expiring.StatusCode);
        await full.AssertErrorAsync(409);
        Assert.Equal(HttpStatusCode.Created, freed.StatusCode);
    }

    [Fact]
    public async Task A_merchant_whose_rows_predate_the_quota_is_counted_from_its_rows()
    {
        await using var host = await fixture.StartHostAsync("Limits:MaxApplicationsPerMerchant=4", "Limits:MaxActiveKeysPerMerchant=3");
        var merchant = await host.Services.GetRequiredService<MerchantService>().CreateAsync("Legacy", CancellationToken.None);
        var tables = host.Services.GetRequiredService<Tables>();
        var now = host.Clock.GetUtcNow();
        for (var i = 0; i < 3; i++)
        {
            await tables.Applications.AddEntityAsync(new ApplicationEntity { PartitionKey = merchant.Id, RowKey = Ids.New(), Name = $"old {i}", CreatedAt = now });
        }

        // Two keys that count and one revoked key that does not, written as an older version wrote them: no counter row.
        await tables.ApiKeys.AddEntityAsync(new ApiKeyEntity { PartitionKey = merchant.Id, RowKey = Ids.New(), Name = "a", KeyPrefix = "wk_live_aaaa", CreatedAt = now });
        await tables.ApiKeys.AddEntityAsync(new ApiKeyEntity { PartitionKey = merchant.Id, RowKey = Ids.New(), Name = "b", KeyPrefix = "wk_live_bbbb", CreatedAt = now, RevokedAt = now });
        var keys = host.Services.GetRequiredService<ApiKeyService>();
        var key = await keys.CreateAsync(merchant.Id, "c", null, CancellationToken.None);
        using var client = host.Client(key.Key);

        using var app = await client.PostAsync("/api/v1/applications", Http.Json(new { name = "fourth" }));
        using var fifth = await client.PostAsync("/api/v1/applications", Http.Json(new { name = "fifth" }));
        using var third = await client.PostAsync("/api/v1/api-keys", Http.Json(new { name = "third active" }));
        using var fourth = await client.PostAsync("/api/v1/api-keys", Http.Json(new { name = "fourth active" }));

        Assert.Equal(HttpStatusCode.Created, app.StatusCode);
        await fifth.AssertErrorAsync(409);
        Assert.Equal(HttpStatusCode.Created, third.StatusCode);
        await fourth.AssertErrorAsync(409);
    }
}
