using System.Net;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>Delivery work counts attempts beside the webhook, never on it, so a merchant's If-Match keeps working while events flow.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class DeliveryETagTests(ApiFixture fixture)
{
    [Fact]
    public async Task Successful_and_failed_attempts_leave_the_webhook_etag_as_it_was_and_if_match_still_succeeds()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        receiver.Script("/mixed", 500, 204, 500, 204, 503, 204);
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/mixed") })).Id();
        using var before = await tenant.Http.GetAsync(tenant.WebhookPath(webhookId));
        var etag = before.Headers.ETag!.ToString();

        var events = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            events.Add(await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = i } }));
        }

        foreach (var eventId in events)
        {
            await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");
        }

        using var after = await tenant.Http.GetAsync(tenant.WebhookPath(webhookId));
        var counted = await after.BodyAsync();
        Assert.Equal(3, counted.GetProperty("successCount").GetInt64());
        Assert.Equal(3, counted.GetProperty("failureCount").GetInt64());
        Assert.Equal(etag, after.Headers.ETag!.ToString());

        using var patch = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { description = "edited while events flowed" }, ifMatch: etag);
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.NotEqual(etag, patch.Headers.ETag!.ToString());
        Assert.Equal(3, (await patch.BodyAsync()).GetProperty("successCount").GetInt64());
    }
}
