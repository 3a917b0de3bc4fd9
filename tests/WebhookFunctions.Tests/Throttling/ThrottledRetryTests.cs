using WebhookFunctions.Tests.Deliveries;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Throttling;

/// <summary>The limit holds back attempts without changing what they are: retries, counts and manual resends.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class ThrottledRetryTests(ApiFixture fixture)
{
    [Fact]
    public async Task Throttled_deliveries_to_a_failing_receiver_keep_their_retry_schedule_and_each_uses_exactly_its_attempts()
    {
        // 8 events at once to a receiver that always fails, limited to 4 a second: most first attempts wait in
        // line, and every retry comes due while others hold the slots. Each delivery still fails after exactly
        // 1 + 2 attempts, as an unthrottled one does.
        const int Events = 8;
        const int Rate = 4;
        await using var host = await fixture.StartDeliveryHostAsync("Delivery:RetrySchedule=200ms,200ms");
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/fail"), rateLimitPerSecond = Rate })).Id();

        var events = await Task.WhenAll(Enumerable.Range(0, Events).Select(i =>
            tenant.PublishAsync(new { eventType = "session.completed", payload = new { i } })));
        foreach (var eventId in events)
        {
            var failed = await tenant.WaitForStatusAsync(webhookId, eventId, "FAILED", TimeSpan.FromSeconds(30));
            Assert.Equal(3, failed.GetProperty("attempts").GetInt32());
        }

        await Task.Delay(500);
        var arrivals = receiver.Deliveries.Where(d => d.Path == "/fail").ToList();
        Assert.Equal(Events * 3, arrivals.Count);
        Assert.All(events, e => Assert.Equal(3, arrivals.Count(d => d.Id == e)));
        var most = Windows.MostInOneSecond(arrivals.Select(d => d.ReceivedAt));
        Assert.True(most <= Rate + 1, $"{most} attempts arrived within one second; the limit is {Rate}");
        Assert.Equal(Events * 3, (await tenant.WebhookAsync(webhookId)).GetProperty("failureCount").GetInt64());
    }

    [Fact]
    public async Task Manual_resends_count_against_the_limit()
    {
        // 6 resends asked for at once on a webhook limited to 2 a second: unthrottled they arrive together.
        const int Rate = 2;
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/ok"), rateLimitPerSecond = Rate })).Id();
        var events = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            events.Add(await tenant.PublishAsync(new { eventType = "session.completed", payload = new { i } }));
        }

        foreach (var eventId in events)
        {
            await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");
        }

        await Task.Delay(1500);
        var before = receiver.Deliveries.Count;
        await Task.WhenAll(events.Concat(events).Select(async eventId =>
        {
            using var response = await tenant.Http.PostAsync($"{tenant.DeliveriesPath(webhookId)}/{eventId}/resend", null);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }));

        await Eventually.Async(() => receiver.Deliveries.Count >= before + 6, TimeSpan.FromSeconds(20), "all six resends at the receiver");
        var resent = receiver.Deliveries.Skip(before).ToList();
        var most = Windows.MostInOneSecond(resent.Select(d => d.ReceivedAt));
        Assert.True(most <= Rate + 1, $"{most} resends arrived within one second; the limit is {Rate}");
        var span = resent.Max(d => d.ReceivedAt) - resent.Min(d => d.ReceivedAt);
        Assert.True(span >= TimeSpan.FromSeconds(2), $"six resends at {Rate}/s took only {span.TotalMilliseconds:0} ms");
        foreach (var eventId in events)
        {
            var attempts = await tenant.AttemptsAsync(webhookId, eventId);
            Assert.Equal(2, attempts.Count(a => a.GetProperty("trigger").GetString() == "manual"));
        }
    }
}
