using System.Net;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

[Collection(ApiTestGroup.Name)]
public sealed class SecretRotationTests(ApiFixture fixture) : LocalDeliveryTests(fixture)
{
    private async Task<(Tenant Tenant, string Path, string Secret)> WebhookAsync()
    {
        var tenant = await Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Receiver.Url("/ok") + "?" + Guid.NewGuid().ToString("N") });
        return (tenant, tenant.WebhookPath(created.GetProperty("id").GetString()!), created.GetProperty("signingSecret").GetString()!);
    }

    private static async Task<JsonElement> RotateAsync(Tenant tenant, string path, int? grace)
    {
        using var response = await tenant.Http.PostAsync(path + "/rotate-secret", grace is null ? null : Http.Json(new { gracePeriodSeconds = grace }));
        var body = await response.BodyAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return body;
    }

    private async Task<Delivery> SendTestAsync(Tenant tenant, string path)
    {
        var before = Receiver.Deliveries.Count;
        using var response = await tenant.Http.PostAsync(path + "/test", null);
        Assert.Equal("SUCCEEDED", (await response.BodyAsync()).GetProperty("status").GetString());
        Assert.Equal(before + 1, Receiver.Deliveries.Count);
        return Receiver.Deliveries.Last();
    }

    [Fact]
    public async Task Rotation_returns_the_new_secret_once_and_defaults_to_a_day_of_grace()
    {
        var (tenant, path, old) = await WebhookAsync();

        var rotated = await RotateAsync(tenant, path, grace: null);
        using var get = await tenant.Http.GetAsync(path);
        var webhook = await get.BodyAsync();

        var secret = rotated.GetProperty("signingSecret").GetString()!;
        Assert.NotEqual(old, secret);
        Assert.Equal(32, Convert.FromBase64String(secret[6..]).Length);
        Assert.Equal("whsec_****" + secret[^4..], rotated.GetProperty("keyFingerprint").GetString());
        var expires = DateTimeOffset.Parse(rotated.GetProperty("previousSecretExpiresAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange((expires - Host.Clock.GetUtcNow()).TotalSeconds, 86_390, 86_400);
        Assert.Equal(rotated.GetProperty("keyFingerprint").GetString(), webhook.GetProperty("keyFingerprint").GetString());
        Assert.DoesNotContain(secret[6..], webhook.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inside_the_grace_period_both_secrets_verify_and_after_it_only_the_new_one()
    {
        var (tenant, path, old) = await WebhookAsync();
        var rotated = await RotateAsync(tenant, path, grace: 3600);
        var current = rotated.GetProperty("signingSecret").GetString()!;

        var during = await SendTestAsync(tenant, path);
        Host.Clock.Advance(TimeSpan.FromSeconds(3601));
        var after = await SendTestAsync(tenant, path);

        Assert.Equal(2, during.Signatures.Split(' ').Length);
        Assert.True(during.VerifiesWith(current));
        Assert.True(during.VerifiesWith(old));
        Assert.Single(after.Signatures.Split(' '));
        Assert.True(after.VerifiesWith(current));
        Assert.False(after.VerifiesWith(old));
    }

    [Fact]
    public async Task A_second_rotation_inside_the_grace_period_ends_the_oldest_secret_at_once()
    {
        var (tenant, path, first) = await WebhookAsync();
        var second = (await RotateAsync(tenant, path, grace: 3600)).GetProperty("signingSecret").GetString()!;
        var third = (await RotateAsync(tenant, path, grace: 3600)).GetProperty("signingSecret").GetString()!;

        var delivery = await SendTestAsync(tenant, path);

        Assert.True(delivery.VerifiesWith(third));
        Assert.True(delivery.VerifiesWith(second));
        Assert.False(delivery.VerifiesWith(first));
    }

    [Fact]
    public async Task A_zero_grace_period_retires_the_old_secret_immediately()
    {
        var (tenant, path, old) = await WebhookAsync();
        var current = (await RotateAsync(tenant, path, grace: 0)).GetProperty("signingSecret").GetString()!;

        var delivery = await SendTestAsync(tenant, path);

        Assert.True(delivery.VerifiesWith(current));
        Assert.False(delivery.VerifiesWith(old));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(604800)]
    public async Task Grace_periods_at_both_limits_are_accepted(int seconds)
    {
        var (tenant, path, _) = await WebhookAsync();

        var rotated = await RotateAsync(tenant, path, seconds);

        var expires = DateTimeOffset.Parse(rotated.GetProperty("previousSecretExpiresAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange((expires - Host.Clock.GetUtcNow()).TotalSeconds, seconds - 10, seconds);
    }

    [Theory]
    [InlineData("{\"gracePeriodSeconds\":-1}", "gracePeriodSeconds")]
    [InlineData("{\"gracePeriodSeconds\":604801}", "gracePeriodSeconds")]
    [InlineData("{\"gracePeriodSeconds\":\"60\"}", "gracePeriodSeconds")]
    [InlineData("{\"gracePeriodSeconds\":1.5}", "gracePeriodSeconds")]
    [InlineData("{\"signingSecret\":\"whsec_x\"}", "signingSecret")]
    [InlineData("[]", "body")]
    public async Task Bad_rotation_bodies_are_400_and_change_nothing(string json, string field)
    {
        var (tenant, path, secret) = await WebhookAsync();

        using var response = await tenant.Http.PostAsync(path + "/rotate-secret", Http.Json(json));

        await response.AssertErrorAsync(400, field);
        using var get = await tenant.Http.GetAsync(path);
        Assert.Equal("whsec_****" + secret[^4..], (await get.BodyAsync()).GetProperty("keyFingerprint").GetString());
    }

    [Fact]
    public async Task Another_merchant_cannot_rotate_or_test()
    {
        var (_, path, _) = await WebhookAsync();
        var intruder = await Host.NewTenantAsync();

        using var rotate = await intruder.Http.PostAsync(path + "/rotate-secret", null);
        using var test = await intruder.Http.PostAsync(path + "/test", null);

        await rotate.AssertErrorAsync(403);
        await test.AssertErrorAsync(403);
        Assert.Empty(Receiver.Deliveries);
    }
}
