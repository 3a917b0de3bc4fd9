using System.Net;
using System.Net.Http.Headers;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Hosting;

/// <summary>What responses must not give away or let a cache keep, and text that must not hide what it says.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class ResponseHygieneTests(ApiFixture fixture)
{
    private static async Task<HttpResponseMessage> PostAsync(Tenant tenant, string path, object? body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : Http.Json(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await tenant.Http.SendAsync(request);
    }

    private static void AssertNoStore(HttpResponseMessage response, string what)
    {
        Assert.True(response.IsSuccessStatusCode, $"{what}: {(int)response.StatusCode}");
        Assert.True(response.Headers.CacheControl?.NoStore == true, $"{what}: no Cache-Control: no-store");
    }

    [Fact]
    public async Task Every_response_carrying_a_secret_or_a_key_is_no_store_replays_included()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var createKey = Guid.NewGuid().ToString();
        var rotateKey = Guid.NewGuid().ToString();
        var body = new { url = Http.UniqueUrl() };

        using var created = await PostAsync(tenant, tenant.WebhooksPath, body, createKey);
        using var createReplay = await PostAsync(tenant, tenant.WebhooksPath, body, createKey);
        var path = created.Headers.Location!.OriginalString;
        using var plainCreate = await PostAsync(tenant, tenant.WebhooksPath, new { url = Http.UniqueUrl() });
        using var rotated = await PostAsync(tenant, path + "/rotate-secret", null, rotateKey);
        using var rotateReplay = await PostAsync(tenant, path + "/rotate-secret", null, rotateKey);
        using var plainRotate = await PostAsync(tenant, path + "/rotate-secret", null);
        using var apiKey = await PostAsync(tenant, "/api/v1/api-keys", new { name = "Pipeline" });

        AssertNoStore(created, "create webhook");
        AssertNoStore(createReplay, "replayed create webhook");
        AssertNoStore(plainCreate, "create webhook without Idempotency-Key");
        AssertNoStore(rotated, "rotate");
        AssertNoStore(rotateReplay, "replayed rotate");
        AssertNoStore(plainRotate, "rotate without Idempotency-Key");
        AssertNoStore(apiKey, "create API key");
    }

    [Fact]
    public async Task No_response_names_the_server_software()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        using var anonymous = fixture.Host.Client();

        using var health = await anonymous.GetAsync("/api/health");
        using var unauthorised = await anonymous.GetAsync("/api/v1/event-types");
        using var unrouted = await anonymous.GetAsync("/api/nothing-here");
        using var ok = await tenant.Http.GetAsync("/api/v1/event-types");

        Assert.All(new[] { health, unauthorised, unrouted, ok }, r => Assert.False(r.Headers.Contains("Server"), $"{(int)r.StatusCode} names its server: {r.Headers.Server}"));
    }

    public static TheoryData<string> InvisibleCharacters() =>
        ["\u200B", "\u200C", "\u200D", "\u200E", "\u200F", "\u202A", "\u202B", "\u202C", "\u202D", "\u202E", "\u2066", "\u2067", "\u2068", "\u2069", "\uFEFF"];

    [Theory]
    [MemberData(nameof(InvisibleCharacters))]
    public async Task Names_and_descriptions_with_bidi_or_zero_width_characters_are_refused(string invisible)
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var webhook = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var text = $"invoice{invisible}fdp.exe";

        using var application = await PostAsync(tenant, "/api/v1/applications", new { name = text });
        using var key = await PostAsync(tenant, "/api/v1/api-keys", new { name = text });
        using var create = await PostAsync(tenant, tenant.WebhooksPath, new { url = Http.UniqueUrl(), description = text });
        using var patch = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhook.GetProperty("id").GetString()!), new { description = text });

        await application.AssertErrorAsync(400, "name");
        await key.AssertErrorAsync(400, "name");
        await create.AssertErrorAsync(400, "description");
        await patch.AssertErrorAsync(400, "description");
    }

    [Fact]
    public async Task Invalid_utf8_is_reported_as_such_not_as_a_surrogate_escape()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        byte[] body = [.. "{\"name\":\"caf"u8, 0xC3, 0x28, .. "\"}"u8];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await tenant.Http.PostAsync("/api/v1/applications", content);

        var error = await response.AssertErrorAsync(400);
        var message = string.Join(" ", error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("message").GetString()));
        Assert.Contains("UTF-8", message, StringComparison.Ordinal);
        Assert.DoesNotContain("surrogate", message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Descriptions_in_any_script_are_still_accepted()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await PostAsync(tenant, tenant.WebhooksPath, new { url = Http.UniqueUrl(), description = "Commandes — 注文 — طلبات ✓" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
