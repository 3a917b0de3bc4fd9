using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>Who gets an event: <c>webhookIds</c> narrows it, and only webhooks that existed when it was published count.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class NarrowingTests(ApiFixture fixture)
{
    [Fact]
    public async Task Webhook_ids_narrow_delivery_to_those_webhooks()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var a = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/a") })).Id();
        var b = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/b") })).Id();
        var c = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/c"), subscribedEvents = new[] { "session.completed" } })).Id();

        var narrowed = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 }, webhookIds = new[] { a, c } });
        await tenant.WaitForStatusAsync(a, narrowed, "SUCCEEDED");
        await tenant.WaitForStatusAsync(c, narrowed, "SUCCEEDED");
        // A narrowed event still goes only to subscribers: c does not take session.expired.
        var expired = await tenant.PublishAsync(new { eventType = "session.expired", payload = new { n = 2 }, webhookIds = new[] { b, c } });
        await tenant.WaitForStatusAsync(b, expired, "SUCCEEDED");
        await Task.Delay(500);

        Assert.Equal(["/a", "/c"], receiver.Deliveries.Where(d => d.Id == narrowed).Select(d => d.Path).Order());
        Assert.Equal(["/b"], receiver.Deliveries.Where(d => d.Id == expired).Select(d => d.Path));
        var deliveries = (await tenant.GetJsonAsync($"{tenant.EventsPath()}/{narrowed}")).GetProperty("deliveries").EnumerateArray();
        Assert.Equal(new[] { a, c }.Order(), deliveries.Select(d => d.GetProperty("webhookId").GetString()!).Order());
    }

    [Fact]
    public async Task An_unknown_webhook_id_or_one_of_another_application_is_a_400_naming_it()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var other = await fixture.Host.NewTenantAsync();
        var mine = (await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() })).Id();
        var theirs = (await other.CreateWebhookAsync(new { url = Http.UniqueUrl() })).Id();
        var unknown = Guid.CreateVersion7().ToString();

        using var response = await tenant.Http.PostAsync(tenant.EventsPath(),
            Http.Json(new { eventType = "session.completed", payload = new { }, webhookIds = new[] { mine, unknown, theirs } }));

        var error = await response.AssertErrorAsync(400, "webhookIds");
        Assert.Contains(unknown, error.ToString(), StringComparison.Ordinal);
        Assert.Contains(theirs, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(mine, error.ToString(), StringComparison.Ordinal);
        Assert.Empty((await tenant.GetJsonAsync(tenant.EventsPath())).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_webhook_created_after_the_publish_does_not_get_the_event_even_when_fan_out_runs_later()
    {
        // Publish on a host whose workers are off, add a webhook, then let a host with workers on the same queues fan it out.
        var queuePrefix = $"t{Guid.NewGuid():N}";
        await using var receiver = await Receiver.StartAsync();
        string eventId, before, after;
        Tenant tenant;
        await using (var idle = await fixture.StartDeliveryHostAsync($"Delivery:QueuePrefix={queuePrefix}", "Delivery:RunWorkers=false"))
        {
            tenant = await idle.NewTenantAsync();
            before = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/before") })).Id();
            eventId = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 } });
            after = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/after") })).Id();
        }

        await using var host = await fixture.StartDeliveryHostAsync($"Delivery:QueuePrefix={queuePrefix}");
        tenant = tenant with { Http = host.Client(tenant.ApiKey) };
        await tenant.WaitForStatusAsync(before, eventId, "SUCCEEDED");
        await Task.Delay(500);

        Assert.Equal(["/before"], receiver.Deliveries.Where(d => d.Id == eventId).Select(d => d.Path));
        Assert.Null(await tenant.DeliveryAsync(after, eventId));
        Assert.Empty((await tenant.GetJsonAsync(tenant.DeliveriesPath(after))).GetProperty("items").EnumerateArray());
    }
}
