using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Limits;

/// <summary>
/// The request-rate limits of the spec, each on a host of its own with a limit low enough to reach in
/// a handful of requests: 429, the envelope and Retry-After, and nobody else is affected.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class RateLimitTests(ApiFixture fixture)
{
    private static async Task<int> RetryAfterOfAsync(HttpResponseMessage response)
    {
        await response.AssertErrorAsync(429);
        var values = response.Headers.GetValues("Retry-After").ToList();
        return int.Parse(Assert.Single(values), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task One_key_past_its_rate_and_burst_gets_429_with_retry_after_and_another_key_does_not()
    {
        await using var host = await fixture.StartHostAsync("Limits:RequestsPerSecondPerKey=1", "Limits:BurstPerKey=3");
        var busy = await host.NewTenantAsync("Busy merchant");
        var quiet = await host.NewTenantAsync("Quiet merchant");

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 6; i++)
        {
            responses.Add(await busy.Http.GetAsync("/api/v1/event-types"));
        }

        using var other = await quiet.Http.GetAsync("/api/v1/event-types");

        Assert.All(responses.Take(3), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var refused = responses.Skip(3).Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.True(refused.Count >= 2, string.Join(", ", responses.Select(r => (int)r.StatusCode)));
        Assert.InRange(await RetryAfterOfAsync(refused[0]), 1, 2);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        responses.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task Costly_operations_share_one_allowance_per_key_and_reads_are_not_counted()
    {
        await using var host = await fixture.StartHostAsync("Limits:CostlyPerMinutePerKey=3");
        var tenant = await host.NewTenantAsync();
        var other = await host.NewTenantAsync();

        var webhook = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });
        var path = tenant.WebhookPath(webhook.GetProperty("id").GetString()!);
        using var rotate = await tenant.Http.PostAsync(path + "/rotate-secret", null);
        using var key = await tenant.Http.PostAsync("/api/v1/api-keys", Http.Json(new { name = "Third costly call" }));
        using var test = await tenant.Http.PostAsync(path + "/test", null);
        using var application = await tenant.Http.PostAsync("/api/v1/applications", Http.Json(new { name = "Fifth" }));
        using var read = await tenant.Http.GetAsync(path);
        using var list = await tenant.Http.GetAsync(tenant.WebhooksPath);
        using var othersCreate = await other.Http.PostAsync(other.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));

        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        Assert.InRange(await RetryAfterOfAsync(test), 1, 60);
        await application.AssertErrorAsync(429);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(HttpStatusCode.Created, othersCreate.StatusCode);
    }

    [Fact]
    public async Task Failed_authentication_from_one_address_is_limited_and_valid_keys_do_not_spend_that_allowance()
    {
        await using var host = await fixture.StartHostAsync("Limits:UnauthenticatedPerSecondPerIp=2");
        var tenant = await host.NewTenantAsync();
        using var anonymous = host.Client();
        using var wrongKey = host.Client("wk_live_" + new string('A', 43));

        for (var i = 0; i < 5; i++)
        {
            using var valid = await tenant.Http.GetAsync("/api/v1/event-types");
            Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        }

        using var first = await wrongKey.GetAsync("/api/v1/event-types");
        using var second = await anonymous.GetAsync("/api/v1/event-types");
        using var third = await wrongKey.GetAsync("/api/v1/event-types");

        await first.AssertErrorAsync(401);
        await second.AssertErrorAsync(401);
        Assert.InRange(await RetryAfterOfAsync(third), 1, 2);
    }

    [Fact]
    public async Task Health_is_limited_per_address_like_any_request_without_a_key()
    {
        await using var host = await fixture.StartHostAsync("Limits:UnauthenticatedPerSecondPerIp=3");
        using var client = host.Client();
        using var first = await client.GetAsync("/api/health");

        // From the cached result, each a millisecond or two: far faster than the 3 a second allowed.
        var rapid = new List<HttpResponseMessage>();
        for (var i = 0; i < 8; i++)
        {
            rapid.Add(await client.GetAsync("/api/health"));
        }

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var refused = rapid.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.True(refused.Count >= 4, string.Join(", ", rapid.Select(r => (int)r.StatusCode)));
        Assert.InRange(await RetryAfterOfAsync(refused[0]), 1, 2);
        rapid.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task Health_answers_from_a_cached_result_for_a_few_seconds()
    {
        await using var host = await fixture.StartHostAsync();
        using var client = host.Client();
        var before = host.Secrets.Probes;

        for (var i = 0; i < 20; i++)
        {
            using var health = await client.GetAsync("/api/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        var probedWhileCached = host.Secrets.Probes - before;
        host.Clock.Advance(TimeSpan.FromSeconds(6));
        using var later = await client.GetAsync("/api/health");

        Assert.Equal(1, probedWhileCached);
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.Equal(2, host.Secrets.Probes - before);
    }

    /// <summary>Through the gate itself, as both hosts call it: the publish operation has no route yet.</summary>
    private static async Task<int> EnterAsync(TestHost host, string operation, string apiKey)
    {
        var context = new DefaultHttpContext { RequestServices = host.Services };
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        context.Request.Headers.Authorization = "Bearer " + apiKey;
        context.Response.Body = new MemoryStream();
        var rejection = await host.Services.GetRequiredService<ApiGate>().EnterAsync(context, operation);
        if (rejection is null)
        {
            return StatusCodes.Status200OK;
        }

        await rejection.ExecuteAsync(context);
        Assert.True(context.Response.Headers.RetryAfter.Count == 1 || context.Response.StatusCode != 429, "429 without Retry-After");
        return context.Response.StatusCode;
    }

    [Fact]
    public async Task Publishing_is_limited_per_merchant_across_its_keys()
    {
        await using var host = await fixture.StartHostAsync("Limits:PublishPerSecondPerMerchant=2");
        var tenant = await host.NewTenantAsync();
        var other = await host.NewTenantAsync();
        var secondKey = await host.Services.GetRequiredService<ApiKeyService>().CreateAsync(tenant.MerchantId, "Second", null, CancellationToken.None);

        var first = await EnterAsync(host, "PublishEvent", tenant.ApiKey);
        var second = await EnterAsync(host, "PublishEvent", tenant.ApiKey);
        var third = await EnterAsync(host, "PublishEvent", secondKey.Key);
        var notPublishing = await EnterAsync(host, "ListEventTypes", secondKey.Key);
        var otherMerchant = await EnterAsync(host, "PublishEvent", other.ApiKey);

        Assert.Equal([200, 200, 429, 200, 200], new[] { first, second, third, notPublishing, otherMerchant });
    }
}
