using System.Net;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Throttling;

/// <summary><c>rateLimitPerSecond</c> on the webhook: null or a whole number from 1 to 1000, on create and PATCH.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class RateLimitFieldTests(ApiFixture fixture)
{
    public static TheoryData<string> Refused() => ["0", "1001", "-5", "\"20\"", "1.5", "20.0", "true", "[20]", "{}", "2147483648"];

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Create_refuses_a_rate_limit_that_is_not_a_whole_number_from_1_to_1000(string value)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await tenant.Http.PostAsync(tenant.WebhooksPath,
            Http.Json($"{{\"url\": {JsonSerializer.Serialize(Http.UniqueUrl())}, \"rateLimitPerSecond\": {value}}}"));

        var error = await response.AssertErrorAsync(400, "rateLimitPerSecond");
        var reason = error.GetProperty("details").EnumerateArray().Single(d => d.GetProperty("field").GetString() == "rateLimitPerSecond");
        Assert.Contains("1 to 1000", reason.GetProperty("message").GetString(), StringComparison.Ordinal);
        using var list = await tenant.Http.GetAsync(tenant.WebhooksPath);
        Assert.Empty((await list.BodyAsync()).GetProperty("items").EnumerateArray());
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Patch_refuses_the_same_values_and_leaves_the_limit_as_it_was(string value)
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var id = (await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl(), rateLimitPerSecond = 7 })).GetProperty("id").GetString()!;

        using var request = new HttpRequestMessage(HttpMethod.Patch, tenant.WebhookPath(id)) { Content = Http.Json($"{{\"rateLimitPerSecond\": {value}}}") };
        using var response = await tenant.Http.SendAsync(request);

        await response.AssertErrorAsync(400, "rateLimitPerSecond");
        Assert.Equal(7, (await GetAsync(tenant, id)).GetProperty("rateLimitPerSecond").GetInt32());
    }

    [Fact]
    public async Task The_limit_is_null_by_default_set_on_create_changed_and_cleared_by_patch_and_shown_by_get_and_list()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        var plain = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("rateLimitPerSecond").ValueKind);
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl(), rateLimitPerSecond = 1000 });
        Assert.Equal(1000, created.GetProperty("rateLimitPerSecond").GetInt32());
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal(1000, (await GetAsync(tenant, id)).GetProperty("rateLimitPerSecond").GetInt32());

        using (var patched = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(id), new { rateLimitPerSecond = 1 }))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            Assert.Equal(1, (await patched.BodyAsync()).GetProperty("rateLimitPerSecond").GetInt32());
        }

        // A PATCH of another field keeps the limit.
        using (var described = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(id), new { description = "fragile" }))
        {
            Assert.Equal(1, (await described.BodyAsync()).GetProperty("rateLimitPerSecond").GetInt32());
        }

        using (var list = await tenant.Http.GetAsync(tenant.WebhooksPath))
        {
            var shown = (await list.BodyAsync()).GetProperty("items").EnumerateArray().Single(w => w.GetProperty("id").GetString() == id);
            Assert.Equal(1, shown.GetProperty("rateLimitPerSecond").GetInt32());
        }

        using (var cleared = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(id), new { rateLimitPerSecond = (int?)null }))
        {
            Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
            Assert.Equal(JsonValueKind.Null, (await cleared.BodyAsync()).GetProperty("rateLimitPerSecond").ValueKind);
        }

        var after = await GetAsync(tenant, id);
        Assert.Equal(JsonValueKind.Null, after.GetProperty("rateLimitPerSecond").ValueKind);
        Assert.Equal("fragile", after.GetProperty("description").GetString());
    }

    private static async Task<JsonElement> GetAsync(Tenant tenant, string id)
    {
        using var response = await tenant.Http.GetAsync(tenant.WebhookPath(id));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.BodyAsync();
    }
}
