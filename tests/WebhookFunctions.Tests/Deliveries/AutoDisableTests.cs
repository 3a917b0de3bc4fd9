using System.Globalization;
using System.Net;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>Dead endpoints are disabled after a failure streak; the merchant hears of it through <c>webhook.disabled</c> and can turn the webhook back on.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class AutoDisableTests(ApiFixture fixture)
{
    [Fact]
    public async Task A_failure_streak_disables_the_webhook_and_webhook_disabled_reaches_only_those_that_name_it()
    {
        await using var host = await fixture.StartDeliveryHostAsync(
            "Delivery:DisableAfterFailures=3", "Delivery:DisableAfter=0s", "Delivery:RetrySchedule=200ms,200ms,200ms,200ms");
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        // The dying webhook names webhook.disabled itself: it must still not be told of its own disabling.
        var dying = await tenant.CreateWebhookAsync(new { url = receiver.Url("/fail"), subscribedEvents = new[] { "session.completed", "webhook.disabled" } });
        var watcher = await tenant.CreateWebhookAsync(new { url = receiver.Url("/watcher"), subscribedEvents = new[] { "webhook.disabled" } });
        await tenant.CreateWebhookAsync(new { url = receiver.Url("/star") });

        var eventId = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { sessionId = "cs_1" } });
        await Eventually.Async(() => receiver.Deliveries.Any(d => d.Path == "/watcher"), EventsApi.Patience, "webhook.disabled reaches the watcher");
        var skipped = await tenant.WaitForStatusAsync(dying.Id(), eventId, "SKIPPED");
        await Task.Delay(500);

        var webhook = await tenant.WebhookAsync(dying.Id());
        Assert.False(webhook.GetProperty("isActive").GetBoolean());
        Assert.Equal("consecutive_failures", webhook.GetProperty("disabledReason").GetString());
        var disabledAt = webhook.GetProperty("disabledAt").GetString()!;
        Assert.Equal(3, receiver.Deliveries.Count(d => d.Path == "/fail"));
        Assert.Equal(3, skipped.GetProperty("attempts").GetInt32());
        Assert.Equal("webhook_inactive", skipped.GetProperty("skippedReason").GetString());

        var notice = Assert.Single(receiver.Deliveries, d => d.Path == "/watcher");
        Assert.True(notice.VerifiesWith(watcher.GetProperty("signingSecret").GetString()!));
        using var body = JsonDocument.Parse(notice.Body);
        Assert.Equal("webhook.disabled", body.RootElement.GetProperty("type").GetString());
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(["webhookId", "url", "disabledReason", "disabledAt", "lastError"], data.EnumerateObject().Select(p => p.Name));
        Assert.Equal(dying.Id(), data.GetProperty("webhookId").GetString());
        Assert.Equal(receiver.Url("/fail"), data.GetProperty("url").GetString());
        Assert.Equal("consecutive_failures", data.GetProperty("disabledReason").GetString());
        Assert.Equal(
            DateTimeOffset.Parse(disabledAt, CultureInfo.InvariantCulture),
            DateTimeOffset.Parse(data.GetProperty("disabledAt").GetString()!, CultureInfo.InvariantCulture));
        Assert.Contains("500", data.GetProperty("lastError").GetString(), StringComparison.Ordinal);

        // The "*" subscriber got the event it subscribes to, and nothing else; the disabled webhook got no notice.
        Assert.Equal([eventId], receiver.Deliveries.Where(d => d.Path == "/star").Select(d => d.Id));
        Assert.DoesNotContain(receiver.Deliveries, d => d.Path == "/fail" && d.Id == notice.Id);
        using var events = await tenant.Http.GetAsync(tenant.EventsPath() + "?eventType=webhook.disabled");
        Assert.Equal(notice.Id, Assert.Single((await events.BodyAsync()).GetProperty("items").EnumerateArray()).Id());
    }

    [Fact]
    public async Task Turning_a_disabled_webhook_back_on_clears_the_reason_and_the_streak_but_keeps_the_counts()
    {
        await using var host = await fixture.StartDeliveryHostAsync(
            "Delivery:DisableAfterFailures=3", "Delivery:DisableAfter=0s", "Delivery:RetrySchedule=200ms,200ms");
        await using var receiver = await Receiver.StartAsync();
        receiver.Script("/flaky", 500, 500, 500, 500, 204);
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/flaky") })).Id();
        var first = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 } });
        await tenant.WaitForStatusAsync(webhookId, first, "FAILED");
        await Eventually.Async(async () => !(await tenant.WebhookAsync(webhookId)).GetProperty("isActive").GetBoolean(), EventsApi.Patience, "the webhook is disabled");

        using var enable = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { isActive = true });
        var enabled = await enable.BodyAsync();
        Assert.Equal(HttpStatusCode.OK, enable.StatusCode);
        Assert.True(enabled.GetProperty("isActive").GetBoolean());
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("disabledReason").ValueKind);
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("disabledAt").ValueKind);
        Assert.Equal(3, enabled.GetProperty("failureCount").GetInt64());

        // One more failure would disable it again at once if the streak had been kept; then it recovers.
        var second = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 2 } });
        await tenant.WaitForStatusAsync(webhookId, second, "SUCCEEDED");

        var webhook = await tenant.WebhookAsync(webhookId);
        Assert.True(webhook.GetProperty("isActive").GetBoolean());
        Assert.Equal(JsonValueKind.Null, webhook.GetProperty("disabledReason").ValueKind);
        Assert.Equal(4, webhook.GetProperty("failureCount").GetInt64());
        Assert.Equal(1, webhook.GetProperty("successCount").GetInt64());
        Assert.Equal([500, 204], (await tenant.AttemptsAsync(webhookId, second)).Select(a => a.GetProperty("httpStatus").GetInt32()));
    }

    [Fact]
    public async Task A_merchant_turning_a_webhook_off_is_a_manual_disabling()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() })).Id();

        using var off = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { isActive = false });
        var disabled = await off.BodyAsync();
        using var again = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { description = "still off" });
        var edited = await again.BodyAsync();
        using var on = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { isActive = true });
        var enabled = await on.BodyAsync();

        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.False(disabled.GetProperty("isActive").GetBoolean());
        Assert.Equal("manual", disabled.GetProperty("disabledReason").GetString());
        // The shared host's clock may have been moved forward by another test.
        var now = fixture.Host.Clock.GetUtcNow();
        Assert.InRange(DateTimeOffset.Parse(disabled.GetProperty("disabledAt").GetString()!, CultureInfo.InvariantCulture), now.AddMinutes(-1), now);
        Assert.Equal("manual", edited.GetProperty("disabledReason").GetString());
        Assert.Equal(disabled.GetProperty("disabledAt").GetString(), edited.GetProperty("disabledAt").GetString());
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("disabledReason").ValueKind);
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("disabledAt").ValueKind);
    }
}
