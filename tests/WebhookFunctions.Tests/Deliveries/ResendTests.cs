using System.Net;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>ResendDelivery: one extra attempt now, recorded as manual, whatever the delivery's status.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class ResendTests(ApiFixture fixture)
{
    private static string ResendPath(Tenant tenant, string webhookId, string eventId) => $"{tenant.DeliveriesPath(webhookId)}/{eventId}/resend";

    [Fact]
    public async Task Resending_a_failed_delivery_makes_one_manual_attempt_and_a_success_settles_it()
    {
        await using var host = await fixture.StartDeliveryHostAsync("Delivery:RetrySchedule=200ms");
        await using var receiver = await Receiver.StartAsync();
        receiver.Script("/recovering", 500, 500, 204);
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/recovering") })).Id();
        var eventId = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 } });
        await tenant.WaitForStatusAsync(webhookId, eventId, "FAILED");

        using var resend = await tenant.Http.PostAsync(ResendPath(tenant, webhookId, eventId), null);
        var accepted = await resend.BodyAsync();
        var settled = await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");
        await Task.Delay(500);

        Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
        Assert.Equal(webhookId, accepted.GetProperty("webhookId").GetString());
        Assert.Equal(eventId, accepted.GetProperty("eventId").GetString());
        Assert.Equal("QUEUED", accepted.GetProperty("status").GetString());
        Assert.Equal(3, settled.GetProperty("attempts").GetInt32());
        var attempts = await tenant.AttemptsAsync(webhookId, eventId);
        Assert.Equal(["scheduled", "scheduled", "manual"], attempts.Select(a => a.GetProperty("trigger").GetString()));
        Assert.Equal([1, 2, 3], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal(204, attempts[2].GetProperty("httpStatus").GetInt32());
        Assert.Equal(3, receiver.Deliveries.Count(d => d.Id == eventId));
        var webhook = await tenant.WebhookAsync(webhookId);
        Assert.Equal(1, webhook.GetProperty("successCount").GetInt64());
        Assert.Equal(2, webhook.GetProperty("failureCount").GetInt64());
    }

    [Fact]
    public async Task Resending_a_succeeded_delivery_sends_it_once_more_and_a_failed_resend_leaves_it_as_it_was()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        receiver.Script("/once", 204, 204, 500);
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/once") })).Id();
        var eventId = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 } });
        await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");

        using (var resend = await tenant.Http.PostAsync(ResendPath(tenant, webhookId, eventId), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
        }

        await Eventually.Async(async () => (await tenant.AttemptsAsync(webhookId, eventId)).Count == 2, EventsApi.Patience, "the first resend is recorded");
        using (var resend = await tenant.Http.PostAsync(ResendPath(tenant, webhookId, eventId), Http.Json("{}")))
        {
            Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
        }

        await Eventually.Async(async () => (await tenant.AttemptsAsync(webhookId, eventId)).Count == 3, EventsApi.Patience, "the second resend is recorded");
        await Task.Delay(500);

        var attempts = await tenant.AttemptsAsync(webhookId, eventId);
        Assert.Equal([204, 204, 500], attempts.Select(a => a.GetProperty("httpStatus").GetInt32()));
        Assert.Equal(["scheduled", "manual", "manual"], attempts.Select(a => a.GetProperty("trigger").GetString()));
        Assert.Equal("SUCCEEDED", (await tenant.DeliveryAsync(webhookId, eventId))!.Value.GetProperty("status").GetString());
        Assert.Equal(3, receiver.Deliveries.Count(d => d.Id == eventId));
    }

    [Fact]
    public async Task Resending_to_an_inactive_webhook_is_a_409_and_sends_nothing()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/off") })).Id();
        var eventId = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 } });
        await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");
        using (var off = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { isActive = false }))
        {
            Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        }

        using var resend = await tenant.Http.PostAsync(ResendPath(tenant, webhookId, eventId), null);
        using var withBody = await tenant.Http.PostAsync(ResendPath(tenant, webhookId, eventId), Http.Json("""{"force":true}"""));
        await Task.Delay(500);

        await resend.AssertErrorAsync(409);
        await withBody.AssertErrorAsync(400, "force");
        Assert.Single(await tenant.AttemptsAsync(webhookId, eventId));
        Assert.Single(receiver.Deliveries, d => d.Id == eventId);
    }
}
