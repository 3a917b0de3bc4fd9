using System.Net;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

[Collection(ApiTestGroup.Name)]
public sealed class TenancyAndConcurrencyTests(ApiFixture fixture)
{
    [Fact]
    public async Task Another_merchants_application_is_403_on_every_webhook_route_and_nothing_changes()
    {
        var owner = await fixture.Host.NewTenantAsync("Owner");
        var intruder = await fixture.Host.NewTenantAsync("Intruder");
        var created = await owner.CreateWebhookAsync(new { url = Http.UniqueUrl(), description = "mine" });
        var id = created.GetProperty("id").GetString()!;

        using var create = await intruder.Http.PostAsync(owner.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        using var list = await intruder.Http.GetAsync(owner.WebhooksPath);
        using var get = await intruder.Http.GetAsync(owner.WebhookPath(id));
        using var patch = await intruder.Http.PatchJsonAsync(owner.WebhookPath(id), new { description = "theirs" });
        using var delete = await intruder.Http.DeleteAsync(owner.WebhookPath(id));

        foreach (var response in new[] { create, list, get, patch, delete })
        {
            await response.AssertErrorAsync(403);
        }

        using var check = await owner.Http.GetAsync(owner.WebhooksPath);
        var items = (await check.BodyAsync()).GetProperty("items");
        Assert.Equal(1, items.GetArrayLength());
        Assert.Equal("mine", items[0].GetProperty("description").GetString());
    }

    [Fact]
    public async Task Unknown_application_is_404()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.GetAsync("/api/v1/applications/0193f1c2-0000-7000-8000-000000000000/webhooks");

        await response.AssertErrorAsync(404);
    }

    [Fact]
    public async Task A_page_token_reads_only_the_callers_own_application()
    {
        var a = await fixture.Host.NewTenantAsync();
        var b = await fixture.Host.NewTenantAsync();
        for (var i = 0; i < 3; i++)
        {
            await a.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        }

        var bOnly = await b.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        using var first = await a.Http.GetAsync(a.WebhooksPath + "?limit=1");
        var token = (await first.BodyAsync()).GetProperty("nextPageToken").GetString()!;

        using var replay = await b.Http.GetAsync($"{b.WebhooksPath}?pageToken={Uri.EscapeDataString(token)}");
        var items = (await replay.BodyAsync()).GetProperty("items");

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.All(items.EnumerateArray(), item => Assert.Equal(b.ApplicationId, item.GetProperty("applicationId").GetString()));
        Assert.All(items.EnumerateArray(), item => Assert.Equal(bOnly.GetProperty("id").GetString(), item.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task The_same_url_twice_on_one_application_is_409_but_fine_on_another()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var other = await fixture.Host.NewTenantAsync();
        var url = Http.UniqueUrl();
        await tenant.CreateWebhookAsync(new { url });
        var sets = fixture.Host.Secrets.Sets;

        using var duplicate = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url }));
        using var differentCaseHost = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = url.Replace("hooks.example.com", "HOOKS.example.COM", StringComparison.Ordinal) }));

        var error = await duplicate.AssertErrorAsync(409, "url");
        await differentCaseHost.AssertErrorAsync(409, "url");
        Assert.Equal("A webhook with this URL already exists on this application.", error.GetProperty("message").GetString());
        Assert.Equal(sets, fixture.Host.Secrets.Sets);
        await other.CreateWebhookAsync(new { url });
    }

    [Fact]
    public async Task An_application_holds_20_webhooks_and_the_21st_is_409_before_any_secret_is_written()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        for (var i = 0; i < 20; i++)
        {
            await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        }

        var secrets = fixture.Host.Secrets;
        var (sets, deletes) = (secrets.Sets, secrets.Deletes);
        using var overLimit = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        var error = await overLimit.AssertErrorAsync(409);

        Assert.Equal("This application already has the maximum of 20 webhooks.", error.GetProperty("message").GetString());
        Assert.False(error.TryGetProperty("details", out _), error.ToString());
        // The limit is checked before the secret is written, not only by the transaction afterwards.
        Assert.Equal((sets, deletes), (secrets.Sets, secrets.Deletes));

        using var list = await tenant.Http.GetAsync(tenant.WebhooksPath + "?limit=100");
        var first = (await list.BodyAsync()).GetProperty("items")[0].GetProperty("id").GetString()!;
        using var delete = await tenant.Http.DeleteAsync(tenant.WebhookPath(first));
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
    }

    [Fact]
    public async Task Concurrent_creates_never_pass_the_limit()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        for (var i = 0; i < 15; i++)
        {
            await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        }

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }))));

        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        using var list = await tenant.Http.GetAsync(tenant.WebhooksPath + "?limit=100");
        Assert.Equal(20, (await list.BodyAsync()).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_patch_or_delete_with_an_etag_made_stale_by_another_write_is_412_and_changes_nothing()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl(), description = "v1" });
        var path = tenant.WebhookPath(created.GetProperty("id").GetString()!);
        using var read = await tenant.Http.GetAsync(path);
        var stale = read.Headers.ETag!.ToString();

        using var other = await tenant.Http.PatchJsonAsync(path, new { description = "v2" });
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        var current = other.Headers.ETag!.ToString();
        var afterOther = await other.BodyAsync();
        Assert.NotEqual(stale, current);

        using var stalePatch = await tenant.Http.PatchJsonAsync(path, new { description = "v3", isActive = false }, stale);
        using var staleDeleteRequest = new HttpRequestMessage(HttpMethod.Delete, path);
        staleDeleteRequest.Headers.TryAddWithoutValidation("If-Match", stale);
        using var staleDelete = await tenant.Http.SendAsync(staleDeleteRequest);
        using var check = await tenant.Http.GetAsync(path);
        var record = await check.BodyAsync();

        await stalePatch.AssertErrorAsync(412);
        await staleDelete.AssertErrorAsync(412);
        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
        Assert.Equal(current, check.Headers.ETag!.ToString());
        Assert.Equal("v2", record.GetProperty("description").GetString());
        Assert.True(record.GetProperty("isActive").GetBoolean());
        Assert.Equal(afterOther.GetProperty("updatedAt").GetString(), record.GetProperty("updatedAt").GetString());
    }

    /// <summary>
    /// Both requests may pass the If-Match check before either writes: only the conditional write in
    /// storage keeps the second from overwriting the first. (The check itself is the test above.)
    /// </summary>
    [Fact]
    public async Task Concurrent_patches_with_the_same_if_match_give_one_200_and_one_412()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        using var create = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        var etag = create.Headers.ETag!.ToString();
        var path = create.Headers.Location!.OriginalString;

        var responses = await Task.WhenAll(
            tenant.Http.PatchJsonAsync(path, new { description = "first" }, etag),
            tenant.Http.PatchJsonAsync(path, new { description = "second" }, etag));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.PreconditionFailed);
        var winner = await responses.Single(r => r.StatusCode == HttpStatusCode.OK).BodyAsync();
        using var get = await tenant.Http.GetAsync(path);
        Assert.Equal(winner.GetProperty("description").GetString(), (await get.BodyAsync()).GetProperty("description").GetString());
    }

    [Fact]
    public async Task If_match_is_honoured_on_patch_and_delete()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        using var create = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        var stale = create.Headers.ETag!.ToString();
        var path = create.Headers.Location!.OriginalString;
        using var patched = await tenant.Http.PatchJsonAsync(path, new { description = "v2" }, stale);
        var current = patched.Headers.ETag!.ToString();
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.NotEqual(stale, current);

        using var stalePatch = await tenant.Http.PatchJsonAsync(path, new { description = "v3" }, stale);
        using var weak = await tenant.Http.PatchJsonAsync(path, new { description = "v3" }, "W/" + current);
        using var malformed = await tenant.Http.PatchJsonAsync(path, new { description = "v3" }, "not-quoted");
        using var staleDelete = new HttpRequestMessage(HttpMethod.Delete, path);
        staleDelete.Headers.TryAddWithoutValidation("If-Match", stale);
        using var staleDeleteResponse = await tenant.Http.SendAsync(staleDelete);
        using var star = await tenant.Http.PatchJsonAsync(path, new { description = "v4" }, "*");
        using var delete = new HttpRequestMessage(HttpMethod.Delete, path);
        delete.Headers.TryAddWithoutValidation("If-Match", star.Headers.ETag!.ToString());
        using var deleteResponse = await tenant.Http.SendAsync(delete);

        await stalePatch.AssertErrorAsync(412);
        await weak.AssertErrorAsync(412);
        await malformed.AssertErrorAsync(400, "If-Match");
        await staleDeleteResponse.AssertErrorAsync(412);
        Assert.Equal(HttpStatusCode.OK, star.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleteResponse.StatusCode);
    }

    [Fact]
    public async Task Patches_without_if_match_never_lose_a_field_written_concurrently()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var path = tenant.WebhookPath(created.GetProperty("id").GetString()!);

        var responses = await Task.WhenAll(
            tenant.Http.PatchJsonAsync(path, new { description = "from A" }),
            tenant.Http.PatchJsonAsync(path, new { isActive = false }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        using var get = await tenant.Http.GetAsync(path);
        var body = await get.BodyAsync();
        Assert.Equal("from A", body.GetProperty("description").GetString());
        Assert.False(body.GetProperty("isActive").GetBoolean());
    }
}
