using System.Net;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>Event deliveries carry the previous secret's signature during a rotation's grace period, so a receiver can switch over without losing messages.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class RotationDeliveryTests(ApiFixture fixture)
{
    [Fact]
    public async Task During_the_grace_period_a_delivery_verifies_with_both_secrets_and_after_it_only_with_the_new_one()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhook = await tenant.CreateWebhookAsync(new { url = receiver.Url("/rotating") });
        var old = webhook.GetProperty("signingSecret").GetString()!;
        using var rotate = await tenant.Http.PostAsync(tenant.WebhookPath(webhook.Id()) + "/rotate-secret", Http.Json(new { gracePeriodSeconds = 600 }));
        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        var current = (await rotate.BodyAsync()).GetProperty("signingSecret").GetString()!;

        var during = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 } });
        await Eventually.Async(() => receiver.Deliveries.Any(d => d.Id == during), EventsApi.Patience);
        host.Clock.Advance(TimeSpan.FromSeconds(601));
        var after = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 2 } });
        await Eventually.Async(() => receiver.Deliveries.Any(d => d.Id == after), EventsApi.Patience);

        var first = receiver.Deliveries.First(d => d.Id == during);
        Assert.Equal(2, first.Signatures.Split(' ').Length);
        Assert.True(first.VerifiesWith(current), "the new secret does not verify the delivery made during the grace period");
        Assert.True(first.VerifiesWith(old), "the old secret does not verify the delivery made during the grace period");
        var second = receiver.Deliveries.First(d => d.Id == after);
        Assert.Single(second.Signatures.Split(' '));
        Assert.True(second.VerifiesWith(current));
        Assert.False(second.VerifiesWith(old));
    }
}
