using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Tests.Deliveries;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Recover;

/// <summary>RecoverDeliveries and GetJob through HTTP, with real receivers: what a merchant sees after an outage.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class RecoverTests(ApiFixture fixture)
{
    private static readonly TimeSpan JobPatience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_dry_run_count_is_what_the_job_matches_and_only_those_deliveries_are_sent_again_with_trigger_recover()
    {
        await using var receiver = await Receiver.StartAsync();
        var up = false;
        // While "down", the endpoint fails everything except events marked ok; then it comes back.
        receiver.Respond("/outage", (d, _) => new Answer(Volatile.Read(ref up) || d.Body.Contains("\"ok\":true", StringComparison.Ordinal) ? 204 : 500));
        await using var host = await fixture.StartDeliveryHostAsync("Delivery:RetrySchedule=");
        var tenant = await host.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/outage") })).Id();

        var before = await PublishAsync(tenant, 2, ok: false);
        host.Clock.Advance(TimeSpan.FromHours(1));
        var since = host.Clock.GetUtcNow();
        var failed = await PublishAsync(tenant, 5, ok: false);
        var succeeded = await PublishAsync(tenant, 2, ok: true);
        await SettleAsync(tenant, webhookId, [.. before, .. failed, .. succeeded]);
        using (var off = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { isActive = false }))
        {
            off.EnsureSuccessStatusCode();
        }

        var skipped = await PublishAsync(tenant, 3, ok: false);
        await SettleAsync(tenant, webhookId, skipped);
        using (var on = await tenant.Http.PatchJsonAsync(tenant.WebhookPath(webhookId), new { isActive = true }))
        {
            on.EnsureSuccessStatusCode();
        }

        host.Clock.Advance(TimeSpan.FromHours(1));
        var until = host.Clock.GetUtcNow();
        var after = await PublishAsync(tenant, 2, ok: false);
        await SettleAsync(tenant, webhookId, after);
        foreach (var id in skipped)
        {
            Assert.Equal("SKIPPED", (await tenant.DeliveryAsync(webhookId, id))!.Value.GetProperty("status").GetString());
        }

        Assert.Equal(5, await tenant.DryRunAsync(webhookId, since, until, "FAILED"));
        Assert.Equal(3, await tenant.DryRunAsync(webhookId, since, until, "SKIPPED"));
        var dryRun = await tenant.DryRunAsync(webhookId, since, until, "FAILED", "SKIPPED");
        Assert.Equal(8, dryRun);
        var posted = receiver.Deliveries.Count;

        Volatile.Write(ref up, true);
        var location = await tenant.StartAsync(webhookId, since, until, "FAILED", "SKIPPED");
        var job = await tenant.WaitForJobAsync(location, JobPatience);

        Assert.Equal("COMPLETED", job.GetProperty("status").GetString());
        Assert.Equal(dryRun, job.GetProperty("matched").GetInt64());
        Assert.Equal(dryRun, job.GetProperty("resent").GetInt64());
        Assert.NotEqual(JsonValueKind.Null, job.GetProperty("completedAt").ValueKind);
        foreach (var id in failed.Concat(skipped))
        {
            await tenant.WaitForStatusAsync(webhookId, id, "SUCCEEDED");
            var attempts = await tenant.AttemptsAsync(webhookId, id);
            var last = attempts[^1];
            Assert.Equal("recover", last.GetProperty("trigger").GetString());
            Assert.Equal(204, last.GetProperty("httpStatus").GetInt32());
            Assert.Equal(Enumerable.Range(1, attempts.Count), attempts.Select(a => a.GetProperty("attempt").GetInt32()));
            Assert.Equal(failed.Contains(id) ? 2 : 1, attempts.Count);
        }

        var again = receiver.Deliveries.Skip(posted).Select(d => d.Id).ToList();
        Assert.Equal(failed.Concat(skipped).Order(), again.Order());
        Assert.Equal(0, await tenant.DryRunAsync(webhookId, since, until, "FAILED", "SKIPPED"));
    }

    [Fact]
    public async Task A_page_run_again_after_dying_before_its_save_sends_nothing_twice_and_counts_each_delivery_once()
    {
        var queues = $"Delivery:QueuePrefix=t{Guid.NewGuid():N}";
        await using var receiver = await Receiver.StartAsync();
        Tenant tenant;
        string webhookId, location;
        List<string> seeded;
        Azure.Data.Tables.TableEntity before;
        var since = DateTimeOffset.UtcNow.AddMinutes(-5);
        var jobs = new Azure.Data.Tables.TableServiceClient(fixture.ConnectionString).GetTableClient(Core.Storage.TableNames.Jobs);
        await using (var idle = await fixture.StartDeliveryHostAsync(queues, "Delivery:RunWorkers=false"))
        {
            tenant = await idle.NewTenantAsync();
            webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/still-down") })).Id();
            seeded = await RecoverApi.SeedFailedAsync(fixture.ConnectionString, tenant, webhookId, 30, DateTimeOffset.UtcNow.AddMinutes(-1));
            location = await tenant.StartAsync(webhookId, since, null, "FAILED");
            // The job as it stood before any page ran: what a process that died before saving its first page leaves.
            before = (await jobs.GetEntityAsync<Azure.Data.Tables.TableEntity>(tenant.MerchantId, location.Split('/')[^1])).Value;
        }

        // Still down: every recovered attempt fails again, so the deliveries are FAILED and match the filter once more.
        receiver.Script("/still-down", 500);
        string[] settings = [queues, "Delivery:RetrySchedule=", "Delivery:RecoverPageSize=10"];
        await using var host = await fixture.StartDeliveryHostAsync(settings);
        tenant = tenant with { Http = host.Client(tenant.ApiKey) };
        var first = await tenant.WaitForJobAsync(location, JobPatience);
        Assert.Equal(30, first.GetProperty("matched").GetInt64());
        await Eventually.Async(() => seeded.All(id => receiver.Deliveries.Any(d => d.Id == id)), EventsApi.Patience, "every recovered delivery sent");
        await Eventually.Async(async () => (await RecoverApi.RecordedAttemptsAsync(fixture.ConnectionString, webhookId, "recover")).Count == 30,
            EventsApi.Patience, "every recover attempt recorded");

        // Run the job again from its first page, as after a crash between the resets and the save.
        before.ETag = Azure.ETag.All;
        await jobs.UpsertEntityAsync(before, Azure.Data.Tables.TableUpdateMode.Replace);
        await host.Services.GetRequiredService<Core.Delivery.DeliveryQueues>().SendAsync(
            new Core.Jobs.JobMessage(tenant.MerchantId, location.Split('/')[^1]), CancellationToken.None);
        JsonElement second = default;
        await Eventually.Async(async () =>
        {
            second = await tenant.GetJsonAsync(location);
            return second.GetProperty("status").GetString() != "RUNNING"
                && second.GetProperty("completedAt").GetString() != first.GetProperty("completedAt").GetString();
        }, JobPatience, "the job to finish a second time");
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal("COMPLETED", second.GetProperty("status").GetString());
        Assert.Equal(30, second.GetProperty("matched").GetInt64());
        Assert.Equal(30, second.GetProperty("resent").GetInt64());
        Assert.All(seeded, id => Assert.Single(receiver.Deliveries, d => d.Id == id));
        Assert.All(await RecoverApi.RecordedAttemptsAsync(fixture.ConnectionString, webhookId, "recover"), kv => Assert.Equal(1, kv.Value));
    }

    private static async Task<List<string>> PublishAsync(Tenant tenant, int count, bool ok)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await tenant.PublishAsync(new { eventType = "session.completed", payload = new { n = i, ok } }));
        }

        return ids;
    }

    private static async Task SettleAsync(Tenant tenant, string webhookId, IEnumerable<string> eventIds)
    {
        foreach (var id in eventIds)
        {
            await Eventually.Async(async () => (await tenant.DeliveryAsync(webhookId, id))?.GetProperty("status").GetString() is "FAILED" or "SUCCEEDED" or "SKIPPED",
                EventsApi.Patience, $"the delivery of {id} settled");
        }
    }
}
