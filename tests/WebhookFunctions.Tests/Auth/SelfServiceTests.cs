using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Auth;

[Collection(ApiTestGroup.Name)]
public sealed class SelfServiceTests(ApiFixture fixture)
{
    [Fact]
    public async Task A_merchant_creates_lists_and_reads_their_applications()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var create = await tenant.Http.PostAsync("/api/v1/applications", Http.Json(new { name = "Billing" }));
        var created = await create.BodyAsync();
        using var get = await tenant.Http.GetAsync(create.Headers.Location);
        using var list = await tenant.Http.GetAsync("/api/v1/applications?limit=1");
        var firstPage = await list.BodyAsync();
        using var second = await tenant.Http.GetAsync("/api/v1/applications?limit=1&pageToken=" + Uri.EscapeDataString(firstPage.GetProperty("nextPageToken").GetString()!));

        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.Equal(["id", "name", "createdAt"], created.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Billing", (await get.BodyAsync()).GetProperty("name").GetString());
        Assert.Equal(tenant.ApplicationId, firstPage.GetProperty("items")[0].GetProperty("id").GetString());
        var secondPage = await second.BodyAsync();
        Assert.Equal(created.GetProperty("id").GetString(), secondPage.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, secondPage.GetProperty("nextPageToken").ValueKind);

        using var webhook = await tenant.Http.PostAsync($"/api/v1/applications/{created.GetProperty("id").GetString()}/webhooks", Http.Json(new { url = Http.UniqueUrl() }));
        Assert.Equal(HttpStatusCode.Created, webhook.StatusCode);
    }

    [Theory]
    [InlineData("{}", "name")]
    [InlineData("{\"name\":\"\"}", "name")]
    [InlineData("{\"name\":7}", "name")]
    [InlineData("{\"name\":\"ok\",\"merchantId\":\"x\"}", "merchantId")]
    public async Task Application_names_are_1_to_100_characters_and_nothing_else_is_accepted(string json, string field)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync("/api/v1/applications", Http.Json(json));
        using var longest = await tenant.Http.PostAsync("/api/v1/applications", Http.Json(new { name = new string('n', 100) }));
        using var tooLong = await tenant.Http.PostAsync("/api/v1/applications", Http.Json(new { name = new string('n', 101) }));

        await response.AssertErrorAsync(400, field);
        Assert.Equal(HttpStatusCode.Created, longest.StatusCode);
        await tooLong.AssertErrorAsync(400, "name");
    }

    [Theory]
    [InlineData("/api/v1/applications", "{\"name\":\"\\ud800\"}", "name")]
    [InlineData("/api/v1/api-keys", "{\"name\":\"a\\udc00b\"}", "name")]
    [InlineData("/api/v1/applications", "{\"\\ud83d\":\"x\"}", "body")]
    public async Task A_name_with_an_unpaired_surrogate_escape_is_400_not_500(string path, string json, string field)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(path, Http.Json(json));

        await response.AssertErrorAsync(400, field);
    }

    [Fact]
    public async Task Another_merchants_application_is_403_and_an_unknown_one_404()
    {
        var owner = await fixture.Host.NewTenantAsync();
        var other = await fixture.Host.NewTenantAsync();

        using var forbidden = await other.Http.GetAsync($"/api/v1/applications/{owner.ApplicationId}");
        using var missing = await other.Http.GetAsync("/api/v1/applications/0193f1c2-0000-7000-8000-000000000000");
        using var list = await other.Http.GetAsync("/api/v1/applications");

        await forbidden.AssertErrorAsync(403);
        await missing.AssertErrorAsync(404);
        Assert.DoesNotContain(owner.ApplicationId, await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_lifecycle_create_use_list_revoke_refused()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var create = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "ci" }));
        var created = await create.BodyAsync();
        var key = created.GetProperty("key").GetString()!;
        using var newClient = fixture.Host.Client(key);
        using var use = await newClient.GetAsync(tenant.WebhooksPath);
        using var list = await tenant.Http.GetAsync("/api/v1/api-keys");
        var listText = await list.Content.ReadAsStringAsync();
        var listed = JsonDocument.Parse(listText).RootElement.GetProperty("items").EnumerateArray()
            .Single(k => k.GetProperty("id").GetString() == created.GetProperty("id").GetString());
        using var revoke = await tenant.Http.DeleteAsync($"/api/v1/api-keys/{created.GetProperty("id").GetString()}");
        using var refused = await newClient.GetAsync(tenant.WebhooksPath);

        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.Equal(["id", "key", "keyPrefix", "name", "createdAt", "expiresAt"], created.EnumerateObject().Select(p => p.Name));
        Assert.Equal(HttpStatusCode.OK, use.StatusCode);
        Assert.DoesNotContain(key, listText, StringComparison.Ordinal);
        Assert.Equal(["id", "name", "keyPrefix", "createdAt", "expiresAt", "lastUsedAt", "revokedAt"], listed.EnumerateObject().Select(p => p.Name));
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("lastUsedAt").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        await refused.AssertErrorAsync(401);
    }

    [Fact]
    public async Task The_key_list_is_paged_like_every_other_list()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        for (var i = 0; i < 11; i++)
        {
            using var created = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = $"k{i}" }));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var seen = new List<string>();
        var sizes = new List<int>();
        string? token = null;
        do
        {
            using var response = await tenant.Http.GetAsync("/api/v1/api-keys?limit=5" + (token is null ? string.Empty : "&pageToken=" + Uri.EscapeDataString(token)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.BodyAsync();
            var ids = page.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("id").GetString()!).ToList();
            seen.AddRange(ids);
            sizes.Add(ids.Count);
            token = page.GetProperty("nextPageToken").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextPageToken").GetString();
        }
        while (token is not null && sizes.Count < 10);

        using var whole = await tenant.Http.GetAsync("/api/v1/api-keys");
        var wholePage = await whole.BodyAsync();
        using var tooMany = await tenant.Http.GetAsync("/api/v1/api-keys?limit=101");
        using var badToken = await tenant.Http.GetAsync("/api/v1/api-keys?pageToken=nonsense");

        Assert.Equal([5, 5, 2], sizes);
        Assert.Equal(12, seen.Distinct().Count());
        Assert.Contains(tenant.KeyId, seen);
        Assert.Equal(seen, wholePage.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("id").GetString()!));
        Assert.Equal(JsonValueKind.Null, wholePage.GetProperty("nextPageToken").ValueKind);
        await tooMany.AssertErrorAsync(400, "limit");
        await badToken.AssertErrorAsync(400, "pageToken");
    }

    [Fact]
    public async Task The_last_active_key_cannot_be_revoked()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var revoke = await tenant.Http.DeleteAsync($"/api/v1/api-keys/{tenant.KeyId}");
        using var stillWorks = await tenant.Http.GetAsync(tenant.WebhooksPath);

        var body = await revoke.AssertErrorAsync(409);
        Assert.Contains("last active", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }

    [Fact]
    public async Task An_expired_key_does_not_count_as_the_other_key_that_allows_a_revoke()
    {
        await using var host = await fixture.StartHostAsync();
        var tenant = await host.NewTenantAsync();
        using var expiring = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "short", expiresAt = host.Clock.GetUtcNow().AddHours(1) }));
        var expiringId = (await expiring.BodyAsync()).GetProperty("id").GetString();

        host.Clock.Advance(TimeSpan.FromHours(2));
        using var refused = await tenant.Http.DeleteAsync($"/api/v1/api-keys/{tenant.KeyId}");
        using var expiredOne = await tenant.Http.DeleteAsync($"/api/v1/api-keys/{expiringId}");
        using var stillWorks = await tenant.Http.GetAsync(tenant.WebhooksPath);

        var body = await refused.AssertErrorAsync(409);
        Assert.Contains("last active", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, expiredOne.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }

    [Fact]
    public async Task Racing_cross_revokes_never_leave_a_merchant_without_an_active_key()
    {
        const int Ring = 4;
        for (var round = 0; round < 5; round++)
        {
            var tenant = await fixture.Host.NewTenantAsync();
            var keys = new List<(string Id, HttpClient Client)> { (tenant.KeyId, tenant.Http) };
            for (var i = 1; i < Ring; i++)
            {
                using var create = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = $"ring {i}" }));
                var created = await create.BodyAsync();
                keys.Add((created.GetProperty("id").GetString()!, fixture.Host.Client(created.GetProperty("key").GetString())));
            }

            foreach (var (_, client) in keys)
            {
                using var warm = await client.GetAsync("/api/v1/api-keys");
                Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
            }

            // Each key revokes the next, all at once: every one of them sees others still active.
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var revokes = keys.Select(async (key, i) =>
            {
                await start.Task;
                using var response = await key.Client.DeleteAsync($"/api/v1/api-keys/{keys[(i + 1) % Ring].Id}");
                return response.StatusCode;
            }).ToList();
            start.SetResult();
            var statuses = await Task.WhenAll(revokes);
            var remaining = (await fixture.Host.Services.GetRequiredService<ApiKeyService>().ListAsync(tenant.MerchantId, 100, null, CancellationToken.None))
                .Items.Count(k => k.RevokedAt is null);

            Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.NoContent, HttpStatusCode.Conflict, HttpStatusCode.Unauthorized }));
            Assert.True(remaining >= 1, $"round {round}: no active key left; revokes answered {string.Join(", ", statuses.Select(s => (int)s))}");
            Assert.True(statuses.Count(s => s == HttpStatusCode.NoContent) <= Ring - 1, $"round {round}: every revoke succeeded");
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(800)]
    public async Task Expiry_must_be_in_the_future_and_at_most_two_years_ahead(int days)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync("/api/v1/api-keys",
            Http.Json(new { name = "x", expiresAt = fixture.Host.Clock.GetUtcNow().AddDays(days) }));
        using var fine = await tenant.Http.PostAsync("/api/v1/api-keys",
            Http.Json(new { name = "x", expiresAt = fixture.Host.Clock.GetUtcNow().AddDays(700) }));

        await response.AssertErrorAsync(400, "expiresAt");
        Assert.Equal(HttpStatusCode.Created, fine.StatusCode);
    }

    [Fact]
    public async Task A_key_that_expires_cannot_create_a_key_that_outlives_it()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var expiry = fixture.Host.Clock.GetUtcNow().AddHours(1);
        using var create = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "short", expiresAt = expiry }));
        using var shortLived = fixture.Host.Client((await create.BodyAsync()).GetProperty("key").GetString());

        using var absent = await shortLived.PostAsync("/api/v1/api-keys", Http.Json(new { name = "forever" }));
        using var explicitNull = await shortLived.PostAsync("/api/v1/api-keys", Http.Json("{\"name\":\"forever\",\"expiresAt\":null}"));
        using var later = await shortLived.PostAsync("/api/v1/api-keys", Http.Json(new { name = "later", expiresAt = expiry.AddMinutes(1) }));
        using var same = await shortLived.PostAsync("/api/v1/api-keys", Http.Json(new { name = "same", expiresAt = expiry }));
        using var sooner = await shortLived.PostAsync("/api/v1/api-keys", Http.Json(new { name = "sooner", expiresAt = expiry.AddMinutes(-30) }));
        using var fromPermanent = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "forever" }));

        foreach (var refused in new[] { absent, explicitNull, later })
        {
            var body = await refused.AssertErrorAsync(400, "expiresAt");
            Assert.Contains("outlive", body.GetProperty("details")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Created, same.StatusCode);
        Assert.Equal(HttpStatusCode.Created, sooner.StatusCode);
        Assert.Equal(HttpStatusCode.Created, fromPermanent.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await fromPermanent.BodyAsync()).GetProperty("expiresAt").ValueKind);
    }

    [Fact]
    public async Task A_merchant_cannot_revoke_another_merchants_key()
    {
        var a = await fixture.Host.NewTenantAsync();
        var b = await fixture.Host.NewTenantAsync();

        using var response = await b.Http.DeleteAsync($"/api/v1/api-keys/{a.KeyId}");
        using var stillWorks = await a.Http.GetAsync(a.WebhooksPath);

        await response.AssertErrorAsync(404);
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }
}
