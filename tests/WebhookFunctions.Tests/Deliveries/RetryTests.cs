using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>What a failed attempt leads to: retries on the schedule, Retry-After, 410, timeouts and refused connections, all recorded.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class RetryTests(ApiFixture fixture)
{
    private static readonly object Completed = new { eventType = "session.completed", payload = new { sessionId = "cs_1" } };

    [Fact]
    public async Task Two_500s_then_a_200_are_three_attempts_with_one_webhook_id_recorded_in_order_and_the_delivery_succeeds()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        receiver.Script("/flaky", 500, 500, 200);
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/flaky") })).Id();

        var eventId = await tenant.PublishAsync(Completed);
        var delivery = await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");
        await Task.Delay(500);

        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(200, delivery.GetProperty("lastHttpStatus").GetInt32());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("nextAttemptAt").ValueKind);
        var received = receiver.Deliveries.Where(d => d.Path == "/flaky").ToList();
        Assert.Equal(3, received.Count);
        Assert.All(received, d => Assert.Equal(eventId, d.Id));
        var attempts = await tenant.AttemptsAsync(webhookId, eventId);
        Assert.Equal([1, 2, 3], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal([500, 500, 200], attempts.Select(a => a.GetProperty("httpStatus").GetInt32()));
        Assert.All(attempts, a => Assert.Equal("scheduled", a.GetProperty("trigger").GetString()));
        Assert.Equal([false, false, true], attempts.Select(a => a.GetProperty("error").ValueKind == JsonValueKind.Null));
        var webhook = await tenant.WebhookAsync(webhookId);
        Assert.Equal(1, webhook.GetProperty("successCount").GetInt64());
        Assert.Equal(2, webhook.GetProperty("failureCount").GetInt64());
        Assert.Equal("SUCCEEDED", webhook.GetProperty("lastDeliveryStatus").GetString());
    }

    [Fact]
    public async Task Duplicate_attempt_messages_from_an_eager_sweep_neither_repeat_nor_skip_an_attempt()
    {
        // Two hosts share the queues, as scaled-out instances do, and their sweeps re-drive every pending
        // delivery more than a second overdue, every second, while the receiver takes 1.5 s to answer:
        // each attempt is re-driven while it is being made, and taken by the other host at once. Only the
        // claim and the attempt fence keep these duplicates from being sent.
        var queues = $"Delivery:QueuePrefix=t{Guid.NewGuid():N}";
        // The timeout leaves the receiver's 1.5 s well inside it on a loaded machine: a timed-out attempt here
        // would be a different test.
        string[] settings = [queues, "Delivery:RedriveAfterSeconds=1", "Delivery:SweepIntervalSeconds=1", "Delivery:TimeoutSeconds=6"];
        await using var host = await fixture.StartDeliveryHostAsync(settings);
        await using var other = await fixture.StartDeliveryHostAsync(settings);
        await using var receiver = await Receiver.StartAsync();
        var slow = TimeSpan.FromMilliseconds(1500);
        receiver.Script("/slow", new Answer(500, Delay: slow), new Answer(500, Delay: slow), new Answer(204, Delay: slow));
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/slow") })).Id();

        var eventId = await tenant.PublishAsync(Completed);
        await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");
        await Task.Delay(2500);

        Assert.Equal(3, receiver.Deliveries.Count(d => d.Path == "/slow"));
        var attempts = await tenant.AttemptsAsync(webhookId, eventId);
        Assert.Equal([500, 500, 204], attempts.Select(a => a.GetProperty("httpStatus").GetInt32()));
        var webhook = await tenant.WebhookAsync(webhookId);
        Assert.Equal(1, webhook.GetProperty("successCount").GetInt64());
        Assert.Equal(2, webhook.GetProperty("failureCount").GetInt64());
    }

    [Fact]
    public async Task A_stale_duplicate_of_an_earlier_attempts_message_sends_nothing_while_the_next_attempt_is_in_flight()
    {
        // Queues deliver at least once: here the message of attempt 1 comes again while attempt 2 is being
        // made (the receiver holds it for a second), and a second host on the same queues takes it at once.
        // Only the attempt fence tells it is stale.
        var queues = $"Delivery:QueuePrefix=t{Guid.NewGuid():N}";
        await using var host = await fixture.StartDeliveryHostAsync(queues);
        await using var other = await fixture.StartDeliveryHostAsync(queues);
        await using var receiver = await Receiver.StartAsync();
        receiver.Script("/second-slow", new Answer(500), new Answer(204, Delay: TimeSpan.FromSeconds(1)));
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/second-slow") })).Id();
        var eventId = await tenant.PublishAsync(Completed);
        await Eventually.Async(() => receiver.Deliveries.Count(d => d.Path == "/second-slow") == 2, EventsApi.Patience, "attempt 2 reaches the receiver");

        await host.Services.GetRequiredService<DeliveryQueues>().SendAsync(
            new AttemptMessage(tenant.MerchantId, tenant.ApplicationId, webhookId, eventId, Attempt: 1), TimeSpan.Zero, CancellationToken.None);
        await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");
        await Task.Delay(2500);

        Assert.Equal(2, receiver.Deliveries.Count(d => d.Path == "/second-slow"));
        Assert.Equal([500, 204], (await tenant.AttemptsAsync(webhookId, eventId)).Select(a => a.GetProperty("httpStatus").GetInt32()));
    }

    [Fact]
    public async Task A_receiver_that_does_not_answer_within_the_timeout_is_a_failed_attempt_without_a_status()
    {
        await using var host = await fixture.StartDeliveryHostAsync("Delivery:TimeoutSeconds=1", "Delivery:RetrySchedule=200ms");
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/hang") })).Id();

        var eventId = await tenant.PublishAsync(Completed);
        var delivery = await tenant.WaitForStatusAsync(webhookId, eventId, "FAILED");

        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("lastHttpStatus").ValueKind);
        var attempts = await tenant.AttemptsAsync(webhookId, eventId);
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal(JsonValueKind.Null, a.GetProperty("httpStatus").ValueKind);
            Assert.Contains("did not answer within 1 seconds", a.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.InRange(a.GetProperty("durationMs").GetInt64(), 950, 5000);
        });
        Assert.Equal(2, (await tenant.WebhookAsync(webhookId)).GetProperty("failureCount").GetInt64());
    }

    [Fact]
    public async Task A_refused_connection_is_a_failed_attempt_without_a_status()
    {
        await using var host = await fixture.StartDeliveryHostAsync("Delivery:RetrySchedule=200ms");
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = $"http://127.0.0.1:{ClosedPort()}/nobody" })).Id();

        var eventId = await tenant.PublishAsync(Completed);
        var delivery = await tenant.WaitForStatusAsync(webhookId, eventId, "FAILED");

        Assert.Equal(2, delivery.GetProperty("attempts").GetInt32());
        var attempts = await tenant.AttemptsAsync(webhookId, eventId);
        Assert.All(attempts, a =>
        {
            Assert.Equal(JsonValueKind.Null, a.GetProperty("httpStatus").ValueKind);
            Assert.Contains("could not be reached", a.GetProperty("error").GetString(), StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Retry_after_in_seconds_on_a_503_holds_the_next_attempt_back_that_long()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        receiver.Script("/busy", new Answer(503, RetryAfter: "2"), new Answer(204));
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/busy") })).Id();

        var eventId = await tenant.PublishAsync(Completed);
        await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");

        var (first, second) = TwoArrivals(receiver, "/busy");
        Assert.True(second - first >= TimeSpan.FromSeconds(2), $"the retry came {(second - first).TotalMilliseconds:0} ms after a Retry-After of 2 s (schedule: 200 ms)");
        Assert.True(second - first < TimeSpan.FromSeconds(6), $"the retry came {(second - first).TotalMilliseconds:0} ms after a Retry-After of 2 s");
    }

    [Fact]
    public async Task Retry_after_as_an_http_date_on_a_429_holds_the_next_attempt_back_until_that_date()
    {
        await using var host = await fixture.StartDeliveryHostAsync();
        await using var receiver = await Receiver.StartAsync();
        var until = DateTimeOffset.MinValue;
        receiver.Respond("/throttled", (_, n) =>
        {
            if (n > 0)
            {
                return new Answer(204);
            }

            // An HTTP date has whole seconds: the wait asked for is between 2 and 3 s, mostly not a whole number.
            var date = DateTimeOffset.UtcNow.AddSeconds(3);
            until = new DateTimeOffset(date.Ticks - (date.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
            return new Answer(429, RetryAfter: until.ToString("R", CultureInfo.InvariantCulture));
        });
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/throttled") })).Id();

        var eventId = await tenant.PublishAsync(Completed);
        await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");

        var (first, second) = TwoArrivals(receiver, "/throttled");
        Assert.True(second >= until, $"the retry came {(until - second).TotalMilliseconds:0} ms before the Retry-After date");
        Assert.True(second - first >= TimeSpan.FromSeconds(2), $"the retry came {(second - first).TotalMilliseconds:0} ms after the first attempt");
        Assert.True(second - until < TimeSpan.FromSeconds(3), $"the retry came {(second - until).TotalMilliseconds:0} ms after the Retry-After date");
    }

    [Fact]
    public async Task A_410_disables_the_webhook_at_once_and_its_other_pending_deliveries_are_skipped_when_due()
    {
        await using var host = await fixture.StartDeliveryHostAsync("Delivery:RetrySchedule=2s,2s");
        await using var receiver = await Receiver.StartAsync();
        receiver.Script("/gone", 500, 410);
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/gone") })).Id();

        var waiting = await tenant.PublishAsync(Completed);
        await Eventually.Async(async () => (await tenant.DeliveryAsync(webhookId, waiting))?.GetProperty("attempts").GetInt32() == 1, EventsApi.Patience);
        var gone = await tenant.PublishAsync(new { eventType = "session.expired", payload = new { sessionId = "cs_2" } });
        var answered = await tenant.WaitForStatusAsync(webhookId, gone, "FAILED");

        // The attempt is recorded first and the webhook disabled right after it, so a read between the two
        // can still see it active.
        var webhook = default(System.Text.Json.JsonElement);
        await Eventually.Async(async () => !(webhook = await tenant.WebhookAsync(webhookId)).GetProperty("isActive").GetBoolean(),
            TimeSpan.FromSeconds(5), "the webhook is disabled after the 410");
        Assert.Equal("gone", webhook.GetProperty("disabledReason").GetString());
        Assert.InRange(DateTimeOffset.Parse(webhook.GetProperty("disabledAt").GetString()!, CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddSeconds(-30), DateTimeOffset.UtcNow);
        Assert.Equal(410, answered.GetProperty("lastHttpStatus").GetInt32());
        Assert.Equal(1, answered.GetProperty("attempts").GetInt32());

        var skipped = await tenant.WaitForStatusAsync(webhookId, waiting, "SKIPPED");
        Assert.Equal("webhook_inactive", skipped.GetProperty("skippedReason").GetString());
        Assert.Equal(1, skipped.GetProperty("attempts").GetInt32());
        Assert.Equal(2, receiver.Deliveries.Count(d => d.Path == "/gone"));
    }

    [Fact]
    public async Task When_the_schedule_runs_out_the_delivery_is_failed_after_exactly_one_attempt_more_than_its_delays()
    {
        await using var host = await fixture.StartDeliveryHostAsync("Delivery:RetrySchedule=100ms,100ms");
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/fail") })).Id();

        var eventId = await tenant.PublishAsync(Completed);
        var delivery = await tenant.WaitForStatusAsync(webhookId, eventId, "FAILED");
        await Task.Delay(500);

        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("nextAttemptAt").ValueKind);
        Assert.Equal(3, receiver.Deliveries.Count(d => d.Id == eventId));
        using var failed = await tenant.Http.GetAsync(tenant.DeliveriesPath(webhookId) + "?status=FAILED");
        Assert.Equal(eventId, Assert.Single((await failed.BodyAsync()).GetProperty("items").EnumerateArray()).GetProperty("eventId").GetString());
    }

    [Fact]
    public async Task Jittered_retry_gaps_stay_within_the_jitter_bounds_of_the_schedule()
    {
        const int Retries = 8;
        await using var host = await fixture.StartDeliveryHostAsync(
            "Delivery:RetryJitter=0.5", "Delivery:RetrySchedule=" + string.Join(',', Enumerable.Repeat("400ms", Retries)));
        await using var receiver = await Receiver.StartAsync();
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/fail") })).Id();

        var eventId = await tenant.PublishAsync(Completed);
        await tenant.WaitForStatusAsync(webhookId, eventId, "FAILED");

        var arrivals = receiver.Deliveries.Where(d => d.Id == eventId).Select(d => d.ReceivedAt).Order().ToList();
        Assert.Equal(Retries + 1, arrivals.Count);
        var gaps = arrivals.Zip(arrivals.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToList();
        // 400 ms ± 50 %: never before 200 ms (the bound a clock cannot blur); after 600 ms only by the time
        // it takes to record, poll and send, which a loaded two-core machine stretches. RetryPolicyTests
        // hold the delays themselves to the exact bounds.
        Assert.All(gaps, gap => Assert.InRange(gap, 195, 600 + 1500));
        Assert.True(gaps.Distinct().Count() > 1, "every gap was the same: no jitter");
    }

    private static (DateTimeOffset First, DateTimeOffset Second) TwoArrivals(Receiver receiver, string path)
    {
        var arrivals = receiver.Deliveries.Where(d => d.Path == path).Select(d => d.ReceivedAt).Order().ToList();
        Assert.Equal(2, arrivals.Count);
        return (arrivals[0], arrivals[1]);
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
