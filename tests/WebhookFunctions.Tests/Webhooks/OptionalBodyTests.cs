using System.Net;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

/// <summary>
/// Rotate and Test take an optional body. Generated clients (NSwag among them) send an absent
/// optional body as the JSON literal <c>null</c>, so that must mean "no body", as an empty body does;
/// where a body is required, <c>null</c> stays a 400.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class OptionalBodyTests(ApiFixture fixture) : LocalDeliveryTests(fixture)
{
    private async Task<(Tenant Tenant, string Path, string Secret)> WebhookAsync()
    {
        var tenant = await Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Receiver.Url("/ok") + "?" + Guid.NewGuid().ToString("N") });
        return (tenant, tenant.WebhookPath(created.GetProperty("id").GetString()!), created.GetProperty("signingSecret").GetString()!);
    }

    [Theory]
    [InlineData("null")]
    [InlineData(" null\n")]
    [InlineData("")]
    public async Task Rotate_with_a_null_or_empty_json_body_rotates_with_the_default_grace(string json)
    {
        var (tenant, path, old) = await WebhookAsync();

        using var response = await tenant.Http.PostAsync(path + "/rotate-secret", Http.Json(json));
        var rotated = await response.BodyAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, rotated.ToString());
        var secret = rotated.GetProperty("signingSecret").GetString()!;
        Assert.NotEqual(old, secret);
        var expires = DateTimeOffset.Parse(rotated.GetProperty("previousSecretExpiresAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange((expires - Host.Clock.GetUtcNow()).TotalSeconds, 86_390, 86_400);
        using var get = await tenant.Http.GetAsync(path);
        Assert.Equal("whsec_****" + secret[^4..], (await get.BodyAsync()).GetProperty("keyFingerprint").GetString());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("")]
    public async Task Test_with_a_null_or_empty_json_body_sends_one_signed_event(string json)
    {
        var (tenant, path, secret) = await WebhookAsync();

        using var response = await tenant.Http.PostAsync(path + "/test", Http.Json(json));
        var result = await response.BodyAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, result.ToString());
        Assert.Equal("SUCCEEDED", result.GetProperty("status").GetString());
        var delivery = Assert.Single(Receiver.Deliveries);
        Assert.Equal("webhook.test", JsonDocument.Parse(delivery.Body).RootElement.GetProperty("type").GetString());
        Assert.True(delivery.VerifiesWith(secret));
    }

    [Fact]
    public async Task A_null_body_where_one_is_required_is_still_400_and_creates_or_changes_nothing()
    {
        var (tenant, path, _) = await WebhookAsync();
        using var before = await tenant.Http.GetAsync(path);
        var etag = before.Headers.ETag!.Tag;

        using var create = await tenant.Http.PostAsync(tenant.WebhooksPath, Http.Json("null"));
        using var patch = await tenant.Http.PatchAsync(path, Http.Json("null"));
        using var application = await tenant.Http.PostAsync("/api/v1/applications", Http.Json("null"));
        using var key = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json("null"));

        await create.AssertErrorAsync(400, "body");
        await patch.AssertErrorAsync(400, "body");
        await application.AssertErrorAsync(400, "body");
        await key.AssertErrorAsync(400, "body");
        using var list = await tenant.Http.GetAsync(tenant.WebhooksPath);
        Assert.Single((await list.BodyAsync()).GetProperty("items").EnumerateArray());
        using var after = await tenant.Http.GetAsync(path);
        Assert.Equal(etag, after.Headers.ETag!.Tag);
    }
}
