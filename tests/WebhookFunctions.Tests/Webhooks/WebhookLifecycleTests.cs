using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

[Collection(ApiTestGroup.Name)]
public sealed partial class WebhookLifecycleTests(ApiFixture fixture)
{
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex Timestamp();

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex UuidV7();

    [Fact]
    public async Task Create_returns_201_with_location_etag_and_a_standard_webhooks_secret()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var url = Http.UniqueUrl();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new
        {
            url,
            description = "Production webhook",
            subscribedEvents = new[] { "session.completed" },
        }));
        var body = await response.BodyAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = body.GetProperty("id").GetString()!;
        Assert.Matches(UuidV7(), id);
        Assert.Equal(tenant.WebhookPath(id), response.Headers.Location!.OriginalString);
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal(tenant.ApplicationId, body.GetProperty("applicationId").GetString());
        Assert.Equal(url, body.GetProperty("url").GetString());
        Assert.Equal("Production webhook", body.GetProperty("description").GetString());
        Assert.True(body.GetProperty("isActive").GetBoolean());
        Assert.Equal(["session.completed"], body.GetProperty("subscribedEvents").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, body.GetProperty("lastTestAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("lastTestStatus").ValueKind);
        Assert.Matches(Timestamp(), body.GetProperty("createdAt").GetString()!);
        Assert.Matches(Timestamp(), body.GetProperty("updatedAt").GetString()!);

        var secret = body.GetProperty("signingSecret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.Equal("whsec_****" + secret[^4..], body.GetProperty("keyFingerprint").GetString());
    }

    [Fact]
    public async Task Omitted_or_empty_subscribed_events_mean_all_events()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        var omitted = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var empty = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl(), subscribedEvents = Array.Empty<string>() });

        Assert.Equal(["*"], omitted.GetProperty("subscribedEvents").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["*"], empty.GetProperty("subscribedEvents").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Signing_secret_appears_only_in_the_create_response()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var id = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("signingSecret").GetString()!;

        using var get = await tenant.Http.GetAsync(tenant.WebhookPath(id));
        using var list = await tenant.Http.GetAsync(tenant.WebhooksPath);
        using var patch = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(id), new { description = "changed" });

        foreach (var response in new[] { get, list, patch })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("signingSecret", text, StringComparison.Ordinal);
            Assert.DoesNotContain(secret["whsec_".Length..], text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Get_returns_the_webhook_with_the_same_etag_as_create()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        using var create = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        var created = await create.BodyAsync();

        using var get = await tenant.Http.GetAsync(create.Headers.Location);
        var fetched = await get.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(create.Headers.ETag, get.Headers.ETag);
        Assert.Equal(created.GetProperty("id").GetString(), fetched.GetProperty("id").GetString());
        Assert.Equal(created.GetProperty("createdAt").GetString(), fetched.GetProperty("createdAt").GetString());
    }

    [Fact]
    public async Task Patch_changes_only_the_fields_sent_and_null_description_clears_it()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl(), description = "before", subscribedEvents = new[] { "session.completed" } });
        var id = created.GetProperty("id").GetString()!;
        var newUrl = Http.UniqueUrl();

        using var first = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(id), new { isActive = false, url = newUrl });
        var afterFirst = await first.BodyAsync();
        using var second = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(id), new { description = (string?)null, subscribedEvents = new[] { "session.expired" } });
        var afterSecond = await second.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.False(afterFirst.GetProperty("isActive").GetBoolean());
        Assert.Equal(newUrl, afterFirst.GetProperty("url").GetString());
        Assert.Equal("before", afterFirst.GetProperty("description").GetString());
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(JsonValueKind.Null, afterSecond.GetProperty("description").ValueKind);
        Assert.Equal(["session.expired"], afterSecond.GetProperty("subscribedEvents").EnumerateArray().Select(e => e.GetString()));
        Assert.False(afterSecond.GetProperty("isActive").GetBoolean());
        Assert.Equal(created.GetProperty("keyFingerprint").GetString(), afterSecond.GetProperty("keyFingerprint").GetString());
        Assert.Equal(created.GetProperty("createdAt").GetString(), afterSecond.GetProperty("createdAt").GetString());
    }

    [Fact]
    public async Task Patch_moving_a_webhook_to_a_url_frees_the_old_one()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var oldUrl = Http.UniqueUrl();
        var created = await tenant.CreateWebhookAsync(new { url = oldUrl });
        using var patch = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(created.GetProperty("id").GetString()!), new { url = Http.UniqueUrl() });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        var reused = await tenant.CreateWebhookAsync(new { url = oldUrl });

        Assert.Equal(oldUrl, reused.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Patch_onto_another_webhooks_url_is_409()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var taken = Http.UniqueUrl();
        await tenant.CreateWebhookAsync(new { url = taken });
        var other = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });

        using var patch = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(other.GetProperty("id").GetString()!), new { url = taken });

        await patch.AssertErrorAsync(409, "url");
    }

    [Fact]
    public async Task Delete_returns_204_then_the_webhook_and_its_secret_are_gone()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var url = Http.UniqueUrl();
        var created = await tenant.CreateWebhookAsync(new { url });
        var id = created.GetProperty("id").GetString()!;
        Assert.NotNull(await fixture.Host.Secrets.Inner.GetAsync("whsec-" + id, null, CancellationToken.None));

        using var delete = await tenant.Http.DeleteAsync(tenant.WebhookPath(id));
        using var get = await tenant.Http.GetAsync(tenant.WebhookPath(id));
        using var again = await tenant.Http.DeleteAsync(tenant.WebhookPath(id));

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await get.AssertErrorAsync(404);
        await again.AssertErrorAsync(404);
        Assert.Null(await fixture.Host.Secrets.Inner.GetAsync("whsec-" + id, null, CancellationToken.None));
        await tenant.CreateWebhookAsync(new { url });
    }

    [Fact]
    public async Task List_pages_in_creation_order_with_opaque_tokens()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() })).GetProperty("id").GetString()!);
        }

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var path = tenant.WebhooksPath + "?limit=2" + (token is null ? string.Empty : "&pageToken=" + Uri.EscapeDataString(token));
            using var response = await tenant.Http.GetAsync(path);
            var body = await response.BodyAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seen.AddRange(body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
            token = body.GetProperty("nextPageToken").GetString();
            pages++;
        }
        while (token is not null);

        Assert.Equal(ids, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task List_defaults_to_20_items_and_a_token_for_the_rest()
    {
        // With the default cap of 20 webhooks a default page of 50 would look the same: allow more.
        await using var host = await fixture.StartHostAsync("Webhooks:MaxPerApplication=30");
        var tenant = await host.NewTenantAsync();
        var ids = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            ids.Add((await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() })).GetProperty("id").GetString()!);
        }

        using var first = await tenant.Http.GetAsync(tenant.WebhooksPath);
        var firstPage = await first.BodyAsync();
        var token = firstPage.GetProperty("nextPageToken").GetString();
        using var second = await tenant.Http.GetAsync(tenant.WebhooksPath + "?pageToken=" + Uri.EscapeDataString(token ?? string.Empty));
        var secondPage = await second.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(ids[..20], firstPage.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("id").GetString()!));
        Assert.NotNull(token);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(ids[20..], secondPage.GetProperty("items").EnumerateArray().Select(w => w.GetProperty("id").GetString()!));
        Assert.Equal(JsonValueKind.Null, secondPage.GetProperty("nextPageToken").ValueKind);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("pageToken=not-a-token", "pageToken")]
    [InlineData("pageToken=djE6Li4vLi4vZXRj", "pageToken")]
    public async Task List_rejects_bad_paging_parameters(string query, string field)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.GetAsync(tenant.WebhooksPath + "?" + query);

        await response.AssertErrorAsync(400, field);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    public async Task List_accepts_limits_at_both_ends(int limit)
    {
        var tenant = await fixture.Host.NewTenantAsync();
        await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });

        using var response = await tenant.Http.GetAsync($"{tenant.WebhooksPath}?limit={limit}");
        var body = await response.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Math.Min(limit, 2), body.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Event_types_come_from_the_catalog()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.GetAsync("/api/v1/event-types");
        var body = await response.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["session.completed", "session.expired", "webhook.disabled"], body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Health_reports_storage_and_secret_store_without_a_key()
    {
        using var client = fixture.Host.Client();

        using var response = await client.GetAsync("/api/health");
        var body = await response.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("reachable", body.GetProperty("storage").GetString());
        Assert.Equal("reachable", body.GetProperty("secretStore").GetString());
    }
}
