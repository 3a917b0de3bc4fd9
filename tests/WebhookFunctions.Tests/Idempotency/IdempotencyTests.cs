using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Idempotency;

[Collection(ApiTestGroup.Name)]
public sealed class IdempotencyTests(ApiFixture fixture)
{
    private static async Task<HttpResponseMessage> PostAsync(Tenant tenant, string path, string? key, object? body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : Http.Json(body) };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        return await tenant.Http.SendAsync(request);
    }

    private static async Task<List<JsonElement>> WebhooksOfAsync(Tenant tenant)
    {
        using var list = await tenant.Http.GetAsync(tenant.WebhooksPath + "?limit=100");
        return [.. (await list.BodyAsync()).GetProperty("items").EnumerateArray()];
    }

    /// <summary>Every stored idempotency record of the merchant, as raw text, to look for plaintext in.</summary>
    private static async Task<string> StoredRecordsOfAsync(TestHost host, string merchantId)
    {
        var table = host.Services.GetRequiredService<Tables>().Idempotency;
        var rows = new List<string>();
        await foreach (var entity in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {merchantId}")))
        {
            rows.Add(string.Join("\n", entity.Select(p => $"{p.Key}={p.Value}")));
        }

        Assert.NotEmpty(rows);
        return string.Join("\n---\n", rows);
    }

    [Fact]
    public async Task A_repeated_create_returns_the_first_response_with_its_secret_and_creates_nothing()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { url = Http.UniqueUrl(), description = "Orders" };
        var setsBefore = fixture.Host.Secrets.Sets;

        using var first = await PostAsync(tenant, tenant.WebhooksPath, key, body);
        using var again = await PostAsync(tenant, tenant.WebhooksPath, key, body);
        var firstText = await first.Content.ReadAsStringAsync();
        var againText = await again.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(firstText, againText);
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        Assert.Equal(first.Headers.ETag, again.Headers.ETag);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Single(await WebhooksOfAsync(tenant));
        Assert.Equal(1, fixture.Host.Secrets.Sets - setsBefore);

        var secret = JsonDocument.Parse(firstText).RootElement.GetProperty("signingSecret").GetString()!;
        var stored = await StoredRecordsOfAsync(fixture.Host, tenant.MerchantId);
        Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(secret["whsec_".Length..], stored, StringComparison.Ordinal);
        Assert.DoesNotContain(key, stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_409_and_creates_nothing()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var key = Guid.NewGuid().ToString();

        using var first = await PostAsync(tenant, tenant.WebhooksPath, key, new { url = Http.UniqueUrl() });
        using var different = await PostAsync(tenant, tenant.WebhooksPath, key, new { url = Http.UniqueUrl() });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var error = await different.AssertErrorAsync(409, "Idempotency-Key");
        Assert.Contains("different request body", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Single(await WebhooksOfAsync(tenant));
    }

    [Fact]
    public async Task Keys_belong_to_one_merchant_and_one_route()
    {
        var one = await fixture.Host.NewTenantAsync();
        var other = await fixture.Host.NewTenantAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { name = "Same name" };

        using var mine = await PostAsync(one, "/api/v1/applications", key, body);
        using var theirs = await PostAsync(other, "/api/v1/applications", key, body);
        using var otherRoute = await PostAsync(one, "/api/v1/api-keys", key, body);

        Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
        Assert.False(theirs.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual((await mine.BodyAsync()).GetProperty("id").GetString(), (await theirs.BodyAsync()).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.Created, otherRoute.StatusCode);
        Assert.StartsWith("wk_live_", (await otherRoute.BodyAsync()).GetProperty("key").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_create_exactly_one_webhook()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { url = Http.UniqueUrl() };

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => PostAsync(tenant, tenant.WebhooksPath, key, body)));
        try
        {
            var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
            var ids = new HashSet<string>();
            foreach (var response in created)
            {
                ids.Add((await response.BodyAsync()).GetProperty("id").GetString()!);
            }

            foreach (var busy in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
            {
                await busy.AssertErrorAsync(409, "Idempotency-Key");
                Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
            }

            Assert.Single(ids);
            Assert.Equal(ids.Single(), Assert.Single(await WebhooksOfAsync(tenant)).GetProperty("id").GetString());

            using var afterwards = await PostAsync(tenant, tenant.WebhooksPath, key, body);
            Assert.Equal(HttpStatusCode.Created, afterwards.StatusCode);
            Assert.Equal(ids.Single(), (await afterwards.BodyAsync()).GetProperty("id").GetString());
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_replayed_api_key_create_says_why_the_key_cannot_be_shown_again()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var key = Guid.NewGuid().ToString();

        using var first = await PostAsync(tenant, "/api/v1/api-keys", key, new { name = "deploy" });
        using var again = await PostAsync(tenant, "/api/v1/api-keys", key, new { name = "deploy" });
        var created = await first.BodyAsync();
        using var list = await tenant.Http.GetAsync("/api/v1/api-keys");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var error = await again.AssertErrorAsync(409, "Idempotency-Key");
        Assert.Contains(created.GetProperty("id").GetString()!, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("revoke", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await list.BodyAsync()).GetProperty("items").GetArrayLength());
        var stored = await StoredRecordsOfAsync(fixture.Host, tenant.MerchantId);
        Assert.DoesNotContain(created.GetProperty("key").GetString()!, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(created.GetProperty("key").GetString()![12..], stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_repeated_rotation_returns_the_same_secret_and_rotates_once()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var webhook = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var path = tenant.WebhookPath(webhook.GetProperty("id").GetString()!) + "/rotate-secret";
        var key = Guid.NewGuid().ToString();

        using var first = await PostAsync(tenant, path, key, new { gracePeriodSeconds = 60 });
        using var again = await PostAsync(tenant, path, key, new { gracePeriodSeconds = 60 });
        var rotated = await first.BodyAsync();
        using var get = await tenant.Http.GetAsync(tenant.WebhookPath(webhook.GetProperty("id").GetString()!));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(rotated.GetRawText(), (await again.BodyAsync()).GetRawText());
        Assert.Equal(rotated.GetProperty("keyFingerprint").GetString(), (await get.BodyAsync()).GetProperty("keyFingerprint").GetString());
        Assert.DoesNotContain(rotated.GetProperty("signingSecret").GetString()!, await StoredRecordsOfAsync(fixture.Host, tenant.MerchantId), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replay_after_the_webhook_was_deleted_says_the_secret_is_gone()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { url = Http.UniqueUrl() };
        using var first = await PostAsync(tenant, tenant.WebhooksPath, key, body);
        using var delete = await tenant.Http.DeleteAsync(first.Headers.Location);

        using var again = await PostAsync(tenant, tenant.WebhooksPath, key, body);

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        var error = await again.AssertErrorAsync(409, "Idempotency-Key");
        Assert.Contains("deleted", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(await WebhooksOfAsync(tenant));
    }

    [Fact]
    public async Task A_request_that_failed_does_not_hold_its_key()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { url = Http.UniqueUrl() };
        await tenant.CreateWebhookAsync(body);

        using var duplicate = await PostAsync(tenant, tenant.WebhooksPath, key, body);
        using var fixedUp = await PostAsync(tenant, tenant.WebhooksPath, key, new { url = Http.UniqueUrl() });

        await duplicate.AssertErrorAsync(409);
        Assert.Equal(HttpStatusCode.Created, fixedUp.StatusCode);
        Assert.Equal(2, (await WebhooksOfAsync(tenant)).Count);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("")]
    [InlineData("tab\there")]
    public async Task An_unusable_key_is_400_naming_the_header(string key)
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var response = await PostAsync(tenant, "/api/v1/applications", key, new { name = "x" });

        await response.AssertErrorAsync(400, "Idempotency-Key");
    }

    [Fact]
    public async Task A_key_of_256_characters_is_400_and_255_is_accepted()
    {
        var tenant = await fixture.Host.NewTenantAsync();

        using var tooLong = await PostAsync(tenant, "/api/v1/applications", new string('k', 256), new { name = "x" });
        using var longest = await PostAsync(tenant, "/api/v1/applications", new string('k', 255), new { name = "x" });

        await tooLong.AssertErrorAsync(400, "Idempotency-Key");
        Assert.Equal(HttpStatusCode.Created, longest.StatusCode);
    }

    [Fact]
    public async Task After_24_hours_a_key_starts_afresh()
    {
        await using var host = await fixture.StartHostAsync();
        var tenant = await host.NewTenantAsync();
        var key = Guid.NewGuid().ToString();

        using var first = await PostAsync(tenant, "/api/v1/applications", key, new { name = "Nightly" });
        host.Clock.Advance(TimeSpan.FromHours(23));
        using var withinDay = await PostAsync(tenant, "/api/v1/applications", key, new { name = "Nightly" });
        host.Clock.Advance(TimeSpan.FromHours(1));
        using var nextDay = await PostAsync(tenant, "/api/v1/applications", key, new { name = "Nightly" });

        var firstId = (await first.BodyAsync()).GetProperty("id").GetString();
        Assert.Equal(firstId, (await withinDay.BodyAsync()).GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.Created, nextDay.StatusCode);
        Assert.False(nextDay.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(firstId, (await nextDay.BodyAsync()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task One_key_on_three_spellings_of_a_route_creates_one_application()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { name = "Spelled three ways" };
        var ids = new List<string?>();

        foreach (var path in new[] { "/api/v1/applications", "/api/V1/Applications", "/api/v1/applications/" })
        {
            using var response = await PostAsync(tenant, path, key, body);
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{path}: {(int)response.StatusCode}");
            ids.Add((await response.BodyAsync()).GetProperty("id").GetString());
        }

        using var list = await tenant.Http.GetAsync("/api/v1/applications?limit=100");
        var named = (await list.BodyAsync()).GetProperty("items").EnumerateArray().Count(a => a.GetProperty("name").GetString() == "Spelled three ways");
        Assert.Single(ids.Distinct());
        Assert.Equal(1, named);
    }

    [Fact]
    public async Task One_key_on_two_applications_creates_a_webhook_on_each_however_the_route_is_spelled()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        using var second = await PostAsync(tenant, "/api/v1/applications", null, new { name = "Second" });
        var secondId = (await second.BodyAsync()).GetProperty("id").GetString()!;
        var key = Guid.NewGuid().ToString();
        var body = new { url = Http.UniqueUrl() };

        using var first = await PostAsync(tenant, tenant.WebhooksPath, key, body);
        using var firstAgain = await PostAsync(tenant, tenant.WebhooksPath.Replace("/webhooks", "/Webhooks/", StringComparison.Ordinal), key, body);
        using var other = await PostAsync(tenant, $"/api/v1/applications/{secondId}/webhooks", key, body);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, firstAgain.StatusCode);
        Assert.True(firstAgain.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
        Assert.Single(await WebhooksOfAsync(tenant));
    }
}
