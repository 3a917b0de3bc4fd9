using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>The event and delivery routes keep merchants apart and check ids as the webhook routes do: 403, 400, 404.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class EventTenancyTests(ApiFixture fixture)
{
    private const string Malformed = "0193F1C2-0000-7000-8000-000000000000";

    [Fact]
    public async Task Another_merchant_gets_403_on_every_event_and_delivery_route_of_this_application()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var owner = await host.NewTenantAsync();
        var intruder = await host.NewTenantAsync("Intruder");
        var webhookId = (await owner.CreateWebhookAsync(new { url = receiver.Url("/mine") })).Id();
        var eventId = await owner.PublishAsync(new { eventType = "session.completed", payload = new { secret = "owner's data" } });
        await owner.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");

        var requests = new (HttpMethod Method, string Path, string? Body)[]
        {
            (HttpMethod.Post, owner.EventsPath(), """{"eventType":"session.completed","payload":{}}"""),
            (HttpMethod.Get, owner.EventsPath(), null),
            (HttpMethod.Get, $"{owner.EventsPath()}/{eventId}", null),
            (HttpMethod.Get, owner.DeliveriesPath(webhookId), null),
            (HttpMethod.Get, owner.AttemptsPath(webhookId, eventId), null),
            (HttpMethod.Post, $"{owner.DeliveriesPath(webhookId)}/{eventId}/resend", null),
        };
        foreach (var (method, path, body) in requests)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Http.Json(body) };
            using var response = await intruder.Http.SendAsync(request);
            var error = await response.AssertErrorAsync(403);
            Assert.DoesNotContain("owner's data", error.ToString(), StringComparison.Ordinal);
        }

        await Task.Delay(500);
        Assert.Single(receiver.Deliveries);
        Assert.Single((await owner.GetJsonAsync(owner.EventsPath())).GetProperty("items").EnumerateArray());
        Assert.Single(await owner.AttemptsAsync(webhookId, eventId));
    }

    [Fact]
    public async Task Malformed_ids_are_400_and_unknown_ones_404()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() })).Id();
        var unknown = Guid.CreateVersion7().ToString();
        var app = $"/api/v1/applications/{tenant.ApplicationId}";

        var malformed = new (HttpMethod Method, string Path, string Field)[]
        {
            (HttpMethod.Get, $"/api/v1/applications/{Malformed}/events", "applicationId"),
            (HttpMethod.Post, $"/api/v1/applications/not-an-id/events", "applicationId"),
            (HttpMethod.Get, $"{app}/events/{Malformed}", "eventId"),
            (HttpMethod.Get, $"{app}/webhooks/{Malformed}/deliveries", "webhookId"),
            (HttpMethod.Get, $"{app}/webhooks/{webhookId}/deliveries/{Malformed}/attempts", "eventId"),
            (HttpMethod.Get, $"{app}/webhooks/{Malformed}/deliveries/{unknown}/attempts", "webhookId"),
            (HttpMethod.Post, $"{app}/webhooks/{webhookId}/deliveries/x/resend", "eventId"),
        };
        foreach (var (method, path, field) in malformed)
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Post ? Http.Json("{}") : null };
            using var response = await tenant.Http.SendAsync(request);
            await response.AssertErrorAsync(400, field);
        }

        var missing = new (HttpMethod Method, string Path)[]
        {
            (HttpMethod.Get, $"/api/v1/applications/{unknown}/events"),
            (HttpMethod.Post, $"/api/v1/applications/{unknown}/events"),
            (HttpMethod.Get, $"{app}/events/{unknown}"),
            (HttpMethod.Get, $"{app}/webhooks/{unknown}/deliveries"),
            (HttpMethod.Get, $"{app}/webhooks/{unknown}/deliveries/{unknown}/attempts"),
            (HttpMethod.Get, $"{app}/webhooks/{webhookId}/deliveries/{unknown}/attempts"),
            (HttpMethod.Post, $"{app}/webhooks/{webhookId}/deliveries/{unknown}/resend"),
        };
        foreach (var (method, path) in missing)
        {
            using var request = new HttpRequestMessage(method, path)
            {
                Content = method == HttpMethod.Post && path.EndsWith("/events", StringComparison.Ordinal)
                    ? Http.Json("""{"eventType":"session.completed","payload":{}}""")
                    : null,
            };
            using var response = await tenant.Http.SendAsync(request);
            await response.AssertErrorAsync(404);
        }
    }
}
