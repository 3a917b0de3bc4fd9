using System.Net;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

[Collection(ApiTestGroup.Name)]
public sealed class DeliveryEndToEndTests(ApiFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_published_event_reaches_subscribers_by_name_and_by_star_signed_and_shaped_as_the_spec_says()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var byName = await tenant.CreateWebhookAsync(new { url = receiver.Url("/by-name"), subscribedEvents = new[] { "session.completed" } });
        var star = await tenant.CreateWebhookAsync(new { url = receiver.Url("/star") });
        var other = await tenant.CreateWebhookAsync(new { url = receiver.Url("/other"), subscribedEvents = new[] { "session.expired" } });
        var inactive = await tenant.CreateWebhookAsync(new { url = receiver.Url("/inactive"), isActive = false });

        using var publish = await tenant.Http.PostAsync(
            $"/api/v1/applications/{tenant.ApplicationId}/events",
            Http.Json("""{"eventType":"session.completed","payload":{"sessionId":"cs_123","amount":1200},"externalId":"cs_123.completed"}"""));

        Assert.Equal(HttpStatusCode.Accepted, publish.StatusCode);
        var e = await publish.BodyAsync();
        var eventId = e.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/applications/{tenant.ApplicationId}/events/{eventId}", publish.Headers.Location!.OriginalString);
        Assert.Equal("cs_123.completed", e.GetProperty("externalId").GetString());

        await Eventually.Async(() => receiver.Deliveries.Count(d => d.Path is "/by-name" or "/star") == 2, Patience);
        await Task.Delay(300);
        Assert.DoesNotContain(receiver.Deliveries, d => d.Path is "/other" or "/inactive");
        foreach (var (path, webhook) in new[] { ("/by-name", byName), ("/star", star) })
        {
            var got = Assert.Single(receiver.Deliveries, d => d.Path == path);
            Assert.Equal(eventId, got.Id);
            Assert.StartsWith("application/json", got.ContentType, StringComparison.Ordinal);
            Assert.True(got.VerifiesWith(webhook.GetProperty("signingSecret").GetString()!), $"{path}: signature does not verify");
            Assert.InRange(long.Parse(got.Timestamp, System.Globalization.CultureInfo.InvariantCulture),
                DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
            using var body = JsonDocument.Parse(got.Body);
            Assert.Equal("session.completed", body.RootElement.GetProperty("type").GetString());
            Assert.Equal(e.GetProperty("createdAt").GetString(), body.RootElement.GetProperty("timestamp").GetString());
            Assert.Equal(1200, body.RootElement.GetProperty("data").GetProperty("amount").GetInt32());
        }

        using var detail = await tenant.Http.GetAsync($"/api/v1/applications/{tenant.ApplicationId}/events/{eventId}");
        var deliveries = (await detail.BodyAsync()).GetProperty("deliveries").EnumerateArray().ToList();
        await Eventually.Async(async () =>
        {
            using var again = await tenant.Http.GetAsync($"/api/v1/applications/{tenant.ApplicationId}/events/{eventId}");
            deliveries = (await again.BodyAsync()).GetProperty("deliveries").EnumerateArray().ToList();
            return deliveries.Count(d => d.GetProperty("status").GetString() == "SUCCEEDED") == 2;
        }, Patience);
        var skipped = Assert.Single(deliveries, d => d.GetProperty("webhookId").GetString() == inactive.GetProperty("id").GetString());
        Assert.Equal("SKIPPED", skipped.GetProperty("status").GetString());
        Assert.Equal("webhook_inactive", skipped.GetProperty("skippedReason").GetString());
        Assert.DoesNotContain(deliveries, d => d.GetProperty("webhookId").GetString() == other.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Failed_attempts_are_retried_on_the_schedule_with_the_same_webhook_id_and_recorded()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhook = await tenant.CreateWebhookAsync(new { url = receiver.Url("/fail") });
        var webhookId = webhook.GetProperty("id").GetString()!;

        using var publish = await tenant.Http.PostAsync(
            $"/api/v1/applications/{tenant.ApplicationId}/events", Http.Json("""{"eventType":"session.expired","payload":{"n":1}}"""));
        var eventId = (await publish.BodyAsync()).GetProperty("id").GetString()!;

        var deliveriesPath = $"{tenant.WebhookPath(webhookId)}/deliveries";
        JsonElement delivery = default;
        await Eventually.Async(async () =>
        {
            using var list = await tenant.Http.GetAsync(deliveriesPath + "?status=FAILED");
            var items = (await list.BodyAsync()).GetProperty("items");
            delivery = items.GetArrayLength() == 1 ? items[0] : default;
            return items.GetArrayLength() == 1;
        }, Patience);

        Assert.Equal(4, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(500, delivery.GetProperty("lastHttpStatus").GetInt32());
        Assert.Equal(4, receiver.Deliveries.Count(d => d.Id == eventId));
        using var attempts = await tenant.Http.GetAsync($"{deliveriesPath}/{eventId}/attempts");
        var recorded = (await attempts.BodyAsync()).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3, 4], recorded.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.All(recorded, a => Assert.Equal(500, a.GetProperty("httpStatus").GetInt32()));
        Assert.All(recorded, a => Assert.Equal("scheduled", a.GetProperty("trigger").GetString()));

        using var got = await tenant.Http.GetAsync(tenant.WebhookPath(webhookId));
        var counts = await got.BodyAsync();
        Assert.Equal(4, counts.GetProperty("failureCount").GetInt64());
        Assert.Equal(0, counts.GetProperty("successCount").GetInt64());
        Assert.Equal("FAILED", counts.GetProperty("lastDeliveryStatus").GetString());
    }
}
