using System.Globalization;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>ListEvents, GetEvent and ListDeliveries: newest first, paged, filtered, and shaped as the spec says.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class DeliveryReadTests(ApiFixture fixture)
{
    [Fact]
    public async Task Events_list_newest_first_page_by_token_and_filter_by_type()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var published = new List<(string Id, string Type)>();
        for (var i = 0; i < 7; i++)
        {
            var type = i % 3 == 0 ? "session.expired" : "session.completed";
            published.Add((await tenant.PublishAsync(new { eventType = type, payload = new { n = i } }), type));
        }

        var all = await ReadAllAsync(tenant, tenant.EventsPath(), limit: 3, pages: 3);
        var expired = await ReadAllAsync(tenant, tenant.EventsPath() + "?eventType=session.expired", limit: 2, pages: 2);

        Assert.Equal(published.Select(p => p.Id).Reverse(), all.Select(e => e.Id()));
        Assert.Equal(published.Where(p => p.Type == "session.expired").Select(p => p.Id).Reverse(), expired.Select(e => e.Id()));
        Assert.All(all, e => Assert.Equal(
            ["id", "applicationId", "eventType", "externalId", "createdAt"], e.EnumerateObject().Select(p => p.Name)));
        using var unknownType = await tenant.Http.GetAsync(tenant.EventsPath() + "?eventType=session.nope");
        await unknownType.AssertErrorAsync(400, "eventType");
        using var twice = await tenant.Http.GetAsync(tenant.EventsPath() + "?eventType=session.expired&eventType=session.completed");
        await twice.AssertErrorAsync(400, "eventType");
    }

    [Fact]
    public async Task Deliveries_filter_by_status_and_page_and_get_event_shows_the_payload_and_every_delivery()
    {
        await using var host = await fixture.StartDeliveryHostAsync("Delivery:RetrySchedule=100ms");
        await using var receiver = await Receiver.StartAsync();
        // The receiver answers with the status the event's payload asks for.
        receiver.Respond("/by-body", (d, _) =>
        {
            using var body = JsonDocument.Parse(d.Body);
            return new Answer(body.RootElement.GetProperty("data").GetProperty("answer").GetInt32());
        });
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/by-body") })).Id();
        var inactiveId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/inactive"), isActive = false })).Id();
        var answers = new[] { 200, 500, 204, 200, 500, 201 };
        var events = new List<string>();
        foreach (var answer in answers)
        {
            events.Add(await tenant.PublishAsync(new { eventType = "session.completed", payload = new { answer } }));
        }

        foreach (var (eventId, answer) in events.Zip(answers))
        {
            await tenant.WaitForStatusAsync(webhookId, eventId, answer < 300 ? "SUCCEEDED" : "FAILED");
        }

        var succeeded = await ReadAllAsync(tenant, tenant.DeliveriesPath(webhookId) + "?status=SUCCEEDED", limit: 3, pages: 2);
        var failed = await ReadAllAsync(tenant, tenant.DeliveriesPath(webhookId) + "?status=FAILED", limit: 1, pages: 2);
        var everything = await ReadAllAsync(tenant, tenant.DeliveriesPath(webhookId), limit: 4, pages: 2);
        var pending = await ReadAllAsync(tenant, tenant.DeliveriesPath(webhookId) + "?status=PENDING", limit: 10, pages: 1);

        var newestFirst = events.AsEnumerable().Reverse().ToList();
        Assert.Equal(newestFirst, everything.Select(d => d.GetProperty("eventId").GetString()));
        Assert.Equal(newestFirst.Where((_, i) => answers[^(i + 1)] < 300), succeeded.Select(d => d.GetProperty("eventId").GetString()));
        Assert.Equal(newestFirst.Where((_, i) => answers[^(i + 1)] >= 300), failed.Select(d => d.GetProperty("eventId").GetString()));
        Assert.Empty(pending);
        var failure = failed[0];
        Assert.Equal(
            ["eventId", "eventType", "status", "attempts", "createdAt", "lastAttemptAt", "nextAttemptAt", "lastHttpStatus", "lastError", "skippedReason"],
            failure.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, failure.GetProperty("attempts").GetInt32());
        Assert.Equal(500, failure.GetProperty("lastHttpStatus").GetInt32());
        Assert.Contains("500", failure.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal("session.completed", failure.GetProperty("eventType").GetString());
        using var lowercase = await tenant.Http.GetAsync(tenant.DeliveriesPath(webhookId) + "?status=failed");
        await lowercase.AssertErrorAsync(400, "status");

        var detail = await tenant.GetJsonAsync($"{tenant.EventsPath()}/{events[1]}");
        Assert.Equal(500, detail.GetProperty("payload").GetProperty("answer").GetInt32());
        var deliveries = detail.GetProperty("deliveries").EnumerateArray().ToDictionary(d => d.GetProperty("webhookId").GetString()!);
        Assert.Equal(new[] { webhookId, inactiveId }.Order(), deliveries.Keys.Order());
        Assert.Equal(
            ["webhookId", "status", "attempts", "lastAttemptAt", "nextAttemptAt", "lastHttpStatus", "skippedReason"],
            deliveries[webhookId].EnumerateObject().Select(p => p.Name));
        Assert.Equal("FAILED", deliveries[webhookId].GetProperty("status").GetString());
        Assert.Equal(2, deliveries[webhookId].GetProperty("attempts").GetInt32());
        var lastAttemptAt = DateTimeOffset.Parse(deliveries[webhookId].GetProperty("lastAttemptAt").GetString()!, CultureInfo.InvariantCulture);
        Assert.True(lastAttemptAt >= DateTimeOffset.Parse(detail.GetProperty("createdAt").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal("SKIPPED", deliveries[inactiveId].GetProperty("status").GetString());
        Assert.Equal("webhook_inactive", deliveries[inactiveId].GetProperty("skippedReason").GetString());
        Assert.Equal(0, deliveries[inactiveId].GetProperty("attempts").GetInt32());
    }

    /// <summary>Follows nextPageToken to the end, checking each page holds at most <paramref name="limit"/> items and the page count.</summary>
    private static async Task<List<JsonElement>> ReadAllAsync(Tenant tenant, string path, int limit, int pages)
    {
        var items = new List<JsonElement>();
        string? token = null;
        var read = 0;
        do
        {
            var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            var page = await tenant.GetJsonAsync($"{path}{separator}limit={limit}" + (token is null ? string.Empty : $"&pageToken={Uri.EscapeDataString(token)}"));
            var pageItems = page.GetProperty("items").EnumerateArray().ToList();
            Assert.InRange(pageItems.Count, 0, limit);
            items.AddRange(pageItems);
            token = page.GetProperty("nextPageToken").GetString();
            read++;
            Assert.True(read <= pages, $"{path}: more than {pages} pages");
        }
        while (token is not null);

        Assert.Equal(pages, read);
        return items;
    }
}
