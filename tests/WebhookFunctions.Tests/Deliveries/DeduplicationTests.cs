using System.Net;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>An externalId makes publishing safe to retry: one event, one delivery per webhook, however often and however concurrently it is sent.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class DeduplicationTests(ApiFixture fixture)
{
    private const string Body = """{"eventType":"session.completed","payload":{"sessionId":"cs_42","amount":1200},"externalId":"cs_42.completed"}""";

    [Fact]
    public async Task Publishing_the_same_external_id_again_replays_the_event_and_sends_nothing_more()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var a = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/a") })).Id();
        var b = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/b") })).Id();

        using var first = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(Body));
        var original = await first.BodyAsync();
        await tenant.WaitForStatusAsync(a, original.Id(), "SUCCEEDED");
        await tenant.WaitForStatusAsync(b, original.Id(), "SUCCEEDED");
        using var second = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(Body));
        var replayed = await second.BodyAsync();
        await Task.Delay(1000);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(original.ToString(), replayed.ToString());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(1, receiver.Deliveries.Count(d => d.Path == "/a"));
        Assert.Equal(1, receiver.Deliveries.Count(d => d.Path == "/b"));
        var events = (await tenant.GetJsonAsync(tenant.EventsPath())).GetProperty("items");
        Assert.Equal(original.Id(), Assert.Single(events.EnumerateArray()).Id());
    }

    [Fact]
    public async Task Sixteen_clients_publishing_one_external_id_at_once_make_one_event_and_one_delivery_per_webhook()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhooks = new[] { "/a", "/b", "/c" };
        var ids = new List<string>();
        foreach (var path in webhooks)
        {
            ids.Add((await tenant.CreateWebhookAsync(new { url = receiver.Url(path) })).Id());
        }

        using var start = new SemaphoreSlim(0);
        var clients = Enumerable.Range(0, 16).Select(async _ =>
        {
            using var client = host.Client(tenant.ApiKey);
            await start.WaitAsync();
            using var response = await client.PostAsync(tenant.EventsPath(), Http.Json(Body));
            return ((int)response.StatusCode, (await response.BodyAsync()).ToString());
        }).ToList();
        start.Release(16);
        var results = await Task.WhenAll(clients);

        Assert.All(results, r => Assert.True(r.Item1 is 200 or 202, $"{r.Item1}: {r.Item2}"));
        Assert.Equal(1, results.Count(r => r.Item1 == 202));
        var eventId = Assert.Single(results.Select(r => System.Text.Json.JsonDocument.Parse(r.Item2).RootElement.GetProperty("id").GetString()).Distinct());
        foreach (var webhookId in ids)
        {
            await tenant.WaitForStatusAsync(webhookId, eventId!, "SUCCEEDED");
        }

        await Task.Delay(1000);
        Assert.Single((await tenant.GetJsonAsync(tenant.EventsPath())).GetProperty("items").EnumerateArray());
        foreach (var path in webhooks)
        {
            // At-least-once allows a repeat, but only of the same message.
            var got = receiver.Deliveries.Where(d => d.Path == path).ToList();
            Assert.NotEmpty(got);
            Assert.Equal([eventId], got.Select(d => d.Id).Distinct());
        }

        Assert.Equal(ids.Order(), (await tenant.GetJsonAsync($"{tenant.EventsPath()}/{eventId}")).GetProperty("deliveries")
            .EnumerateArray().Select(d => d.GetProperty("webhookId").GetString()!).Order());
    }

    [Fact]
    public async Task The_same_external_id_with_another_payload_or_type_is_a_conflict_naming_the_original_event()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        using var first = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(Body));
        var originalId = (await first.BodyAsync()).Id();

        using var otherPayload = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(
            """{"eventType":"session.completed","payload":{"sessionId":"cs_42","amount":1300},"externalId":"cs_42.completed"}"""));
        using var otherType = await tenant.Http.PostAsync(tenant.EventsPath(), Http.Json(
            """{"eventType":"session.expired","payload":{"sessionId":"cs_42","amount":1200},"externalId":"cs_42.completed"}"""));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        foreach (var response in new[] { otherPayload, otherType })
        {
            var error = await response.AssertErrorAsync(409, "externalId");
            Assert.Contains(originalId, error.ToString(), StringComparison.Ordinal);
        }

        Assert.Single((await tenant.GetJsonAsync(tenant.EventsPath())).GetProperty("items").EnumerateArray());
    }
}
