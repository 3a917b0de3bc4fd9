using System.Diagnostics;
using System.Net;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Webhooks;

[Collection(ApiTestGroup.Name)]
public sealed class TestDeliveryTests(ApiFixture fixture) : LocalDeliveryTests(fixture)
{
    private async Task<(Tenant Tenant, string Path, string Secret)> WebhookAtAsync(string receiverPath)
    {
        var tenant = await Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Receiver.Url(receiverPath) + "?" + Guid.NewGuid().ToString("N") });
        return (tenant, tenant.WebhookPath(created.GetProperty("id").GetString()!), created.GetProperty("signingSecret").GetString()!);
    }

    [Fact]
    public async Task A_test_event_arrives_signed_and_verifies_with_an_independent_verifier()
    {
        var (tenant, path, secret) = await WebhookAtAsync("/ok");

        using var response = await tenant.Http.PostAsync(path + "/test", null);
        var result = await response.BodyAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, string.Join("\n", Host.Logs.Lines.Where(l => l.Contains("Error", StringComparison.Ordinal))));
        Assert.Equal("SUCCEEDED", result.GetProperty("status").GetString());
        Assert.Equal(204, result.GetProperty("httpStatus").GetInt32());
        Assert.True(result.GetProperty("durationMs").GetInt64() >= 0);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("error").ValueKind);

        var delivery = Assert.Single(Receiver.Deliveries);
        Assert.StartsWith("msg_", delivery.Id, StringComparison.Ordinal);
        Assert.True(Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(delivery.Timestamp, System.Globalization.CultureInfo.InvariantCulture)) < 60);
        Assert.StartsWith("application/json", delivery.ContentType, StringComparison.Ordinal);
        Assert.Equal("webhook.test", JsonDocument.Parse(delivery.Body).RootElement.GetProperty("type").GetString());
        Assert.True(delivery.VerifiesWith(secret));
        Assert.False(delivery.VerifiesWith("whsec_" + Convert.ToBase64String(new byte[32])));

        using var get = await tenant.Http.GetAsync(path);
        var webhook = await get.BodyAsync();
        Assert.Equal("SUCCEEDED", webhook.GetProperty("lastTestStatus").GetString());
        Assert.NotEqual(JsonValueKind.Null, webhook.GetProperty("lastTestAt").ValueKind);
    }

    [Fact]
    public async Task A_repeated_test_with_one_idempotency_key_sends_once_and_replays_the_result()
    {
        var (tenant, path, _) = await WebhookAtAsync("/ok");
        var key = Guid.NewGuid().ToString();

        var results = new List<string>();
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path + "/test");
            request.Headers.Add("Idempotency-Key", key);
            using var response = await tenant.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            results.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.Single(Receiver.Deliveries);
        Assert.Equal(results[0], results[1]);
    }

    [Theory]
    [InlineData("/fail", 500, "500")]
    [InlineData("/redirect", 302, "redirect")]
    public async Task Error_and_redirect_answers_record_failed_with_a_clear_error(string receiverPath, int status, string errorMentions)
    {
        var (tenant, path, _) = await WebhookAtAsync(receiverPath);

        using var response = await tenant.Http.PostAsync(path + "/test", null);
        var result = await response.BodyAsync();

        Assert.Equal("FAILED", result.GetProperty("status").GetString());
        Assert.Equal(status, result.GetProperty("httpStatus").GetInt32());
        Assert.Contains(errorMentions, result.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Receiver.Deliveries, d => d.Path == "/ok");
        using var get = await tenant.Http.GetAsync(path);
        Assert.Equal("FAILED", (await get.BodyAsync()).GetProperty("lastTestStatus").GetString());
    }

    [Fact]
    public async Task An_endpoint_that_never_answers_fails_after_10_seconds()
    {
        var (tenant, path, _) = await WebhookAtAsync("/hang");
        var stopwatch = Stopwatch.StartNew();

        using var response = await tenant.Http.PostAsync(path + "/test", null);
        stopwatch.Stop();
        var result = await response.BodyAsync();

        Assert.Equal("FAILED", result.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("httpStatus").ValueKind);
        Assert.Contains("10 seconds", result.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.InRange(result.GetProperty("durationMs").GetInt64(), 9_900, 11_000);
        Assert.InRange(stopwatch.Elapsed.TotalSeconds, 9.9, 12);
    }

    [Fact]
    public async Task An_endless_response_body_is_cut_off_and_does_not_hold_the_request()
    {
        var (tenant, path, _) = await WebhookAtAsync("/huge");

        using var response = await tenant.Http.PostAsync(path + "/test", null);
        var result = await response.BodyAsync();

        Assert.Equal("SUCCEEDED", result.GetProperty("status").GetString());
        Assert.True(result.GetProperty("durationMs").GetInt64() < 5_000);
    }

    [Fact]
    public async Task Nothing_reaches_a_loopback_listener_unless_private_networks_are_allowed()
    {
        var (tenant, path, _) = await WebhookAtAsync("/ok");
        using var strictClient = Fixture.Host.Client(tenant.ApiKey);

        using var refused = await strictClient.PostAsync(path + "/test", null);
        var result = await refused.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Equal("FAILED", result.GetProperty("status").GetString());
        Assert.Contains("not allowed", result.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(Receiver.Deliveries);
    }

    [Fact]
    public async Task A_webhook_at_a_name_that_resolves_to_loopback_is_refused_without_sending_a_byte()
    {
        var tenant = await Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = $"http://localhost:{Receiver.Port}/ok" });
        using var strictClient = Fixture.Host.Client(tenant.ApiKey);

        using var refused = await strictClient.PostAsync(tenant.WebhookPath(created.GetProperty("id").GetString()!) + "/test", null);

        Assert.Equal("FAILED", (await refused.BodyAsync()).GetProperty("status").GetString());
        Assert.Empty(Receiver.Deliveries);
    }

    [Theory]
    [InlineData("https://192.88.99.1/x")]
    [InlineData("https://[64:ff9b:1::a9fe:a9fe]/x")]
    [InlineData("https://[100::1]/x")]
    [InlineData("https://[3fff::1]/x")]
    public async Task A_reserved_address_saved_where_private_networks_are_allowed_is_refused_at_connect_time_elsewhere(string url)
    {
        var tenant = await Host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url });
        using var strictClient = Fixture.Host.Client(tenant.ApiKey);

        using var refused = await strictClient.PostAsync(tenant.WebhookPath(created.GetProperty("id").GetString()!) + "/test", null);
        var result = await refused.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Equal("FAILED", result.GetProperty("status").GetString());
        Assert.Contains("not allowed", result.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_refuses_a_body_with_properties()
    {
        var (tenant, path, _) = await WebhookAtAsync("/ok");

        using var response = await tenant.Http.PostAsync(path + "/test", Http.Json(new { url = "https://elsewhere.example.com" }));

        await response.AssertErrorAsync(400, "url");
        Assert.Empty(Receiver.Deliveries);
    }
}
