using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>
/// The 202's promise does not rest on a queue message: when one is lost (here, the queue is cleared
/// while no worker runs), the sweep finds the pending marker and sends it again.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class RedriveTests(ApiFixture fixture)
{
    private static readonly string[] EagerSweep = ["Delivery:RedriveAfterSeconds=1", "Delivery:SweepIntervalSeconds=1"];

    [Fact]
    public async Task A_lost_fan_out_message_is_re_driven_and_the_event_delivered()
    {
        var queues = $"Delivery:QueuePrefix=t{Guid.NewGuid():N}";
        await using var receiver = await Receiver.StartAsync();
        Tenant tenant;
        string webhookId, eventId;
        await using (var idle = await fixture.StartDeliveryHostAsync(queues, "Delivery:RunWorkers=false"))
        {
            tenant = await idle.NewTenantAsync();
            webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/late") })).Id();
            eventId = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 } });
            await idle.Services.GetRequiredService<DeliveryQueues>().FanOut.ClearMessagesAsync();
        }

        await using var host = await fixture.StartDeliveryHostAsync([queues, .. EagerSweep]);
        tenant = tenant with { Http = host.Client(tenant.ApiKey) };
        await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");

        Assert.Contains(receiver.Deliveries, d => d.Path == "/late" && d.Id == eventId);
    }

    [Fact]
    public async Task A_lost_retry_message_is_re_driven_when_its_attempt_is_overdue()
    {
        var queues = $"Delivery:QueuePrefix=t{Guid.NewGuid():N}";
        await using var receiver = await Receiver.StartAsync();
        receiver.Script("/retried", 500, 204);
        Tenant tenant;
        string webhookId, eventId;
        await using (var first = await fixture.StartDeliveryHostAsync(queues, "Delivery:RetrySchedule=3s"))
        {
            tenant = await first.NewTenantAsync();
            webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/retried") })).Id();
            eventId = await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = 1 } });
            await Eventually.Async(async () => (await tenant.DeliveryAsync(webhookId, eventId))?.GetProperty("attempts").GetInt32() == 1,
                EventsApi.Patience, "the first attempt is recorded");
            // The retry's message waits hidden in the queue; clearing it is the loss.
            await first.Services.GetRequiredService<DeliveryQueues>().Attempts.ClearMessagesAsync();
        }

        await using var host = await fixture.StartDeliveryHostAsync([queues, "Delivery:RetrySchedule=3s", .. EagerSweep]);
        tenant = tenant with { Http = host.Client(tenant.ApiKey) };
        await tenant.WaitForStatusAsync(webhookId, eventId, "SUCCEEDED");

        Assert.Equal([500, 204], (await tenant.AttemptsAsync(webhookId, eventId)).Select(a => a.GetProperty("httpStatus").GetInt32()));
        Assert.Equal(2, receiver.Deliveries.Count(d => d.Path == "/retried"));
    }
}
