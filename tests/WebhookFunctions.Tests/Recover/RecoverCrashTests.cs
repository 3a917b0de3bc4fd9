using System.Diagnostics;
using System.Net.Http.Headers;
using WebhookFunctions.Tests.Deliveries;
using WebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookFunctions.Tests.Recover;

/// <summary>
/// A recover job of thousands of failed deliveries, its host process SIGKILLed half-way through the job and
/// started again: the job completes with the dry run's count, and the receiver's log and the recorded
/// attempts show that the job sent no delivery twice.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class RecoverCrashTests(ITestOutputHelper output)
{
    /// <summary>
    /// 2,000 by default; the 10,000 with RECOVER_CRASH_DELIVERIES=10000 (12 minutes alone here, too long to
    /// share two cores with the rest of the suite). Azurite keeps a
    /// table in one in-memory collection indexed by partition key, so every point read and write in the
    /// webhook's partition walks all its rows: the cost per delivery grows with the partition, and 10,000
    /// on two shared cores takes far longer than the service would on Azure Storage.
    /// </summary>
    private static readonly int Deliveries = int.TryParse(Environment.GetEnvironmentVariable("RECOVER_CRASH_DELIVERIES"), out var n) ? n : 2_000;

    /// <summary>A deadline that grows with the number of deliveries, as Azurite's cost per operation does (60 ms each, at least <paramref name="least"/>).</summary>
    private static TimeSpan Budget(TimeSpan least) => TimeSpan.FromTicks(Math.Max(least.Ticks, TimeSpan.FromMilliseconds(60).Ticks * Deliveries));

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_job_killed_half_way_resumes_after_a_restart_and_sends_no_delivery_twice()
    {
        // An Azurite of its own: 20,000 extra rows in the shared one would slow every later test's partition queries.
        var (azurite, connectionString) = await ApiFixture.StartAzuriteAsync();
        await using var _ = azurite;
        await using var receiver = await Receiver.StartAsync();
        // Partly still down: one event in 16 (by its id's last digit) fails again and is FAILED once more, so it
        // matches again and only the job's own record keeps it from being put back twice. The rest succeed:
        // each failure costs a scan of the webhook's counts, which on Azurite reads the whole table.
        receiver.Respond("/down", (d, _) => new Answer(d.Id.EndsWith('0') ? 500 : 204));
        await using var setup = await TestHost.StartAsync(connectionString, null, "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true");
        var tenant = await setup.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/down") })).Id();
        var clock = Stopwatch.StartNew();
        var seeded = await RecoverApi.SeedFailedAsync(connectionString, tenant, webhookId, Deliveries, DateTimeOffset.UtcNow.AddMinutes(-10), attemptRows: false);
        output.WriteLine($"Seeded {Deliveries} failed deliveries in {clock.Elapsed.TotalSeconds:0.0} s");

        string[] settings =
        [
            "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true",
            "Delivery:RunWorkers=true", $"Delivery:QueuePrefix=r{Guid.NewGuid():N}",
            "Delivery:RetrySchedule=", "Delivery:TimeoutSeconds=2", "Delivery:RecoverPageSize=200",
            "Delivery:RedriveAfterSeconds=30", "Delivery:SweepIntervalSeconds=5",
            // As in the benchmark: Azurite on two busy cores stalls for seconds, and with the default 5 s a stall
            // becomes a failed page or attempt that comes back only after its message's pause or lease.
            "Storage:NetworkTimeoutSeconds=30",
        ];
        var since = DateTimeOffset.UtcNow.AddHours(-1);
        long dryRun;
        string location;
        await using (var doomed = await HostProcess.StartAsync(connectionString, settings))
        {
            var http = tenant with { Http = Client(doomed.BaseAddress, tenant.ApiKey) };
            dryRun = await http.DryRunAsync(webhookId, since, null, "FAILED");
            Assert.Equal(Deliveries, dryRun);
            location = await http.StartAsync(webhookId, since, null, "FAILED");
            await Eventually.Async(async () => (await http.TryGetJobAsync(location))?.GetProperty("resent").GetInt64() >= Deliveries / 2, Budget(TimeSpan.FromMinutes(3)),
                () => $"the job half-way; host output:\n{Tail(doomed.Output)}");
            await doomed.KillAsync();
        }

        var atKill = await tenant.GetJsonAsync(location);
        output.WriteLine($"Killed at {clock.Elapsed.TotalSeconds:0.0} s with the job at {atKill}; the receiver had {receiver.Deliveries.Count} POSTs");
        Assert.Equal("RUNNING", atKill.GetProperty("status").GetString());

        await using var restarted = await HostProcess.StartAsync(connectionString, settings);
        tenant = tenant with { Http = Client(restarted.BaseAddress, tenant.ApiKey) };
        var job = await tenant.WaitForJobAsync(location, Budget(TimeSpan.FromMinutes(2)), () => Tail(restarted.Output));
        output.WriteLine($"Job completed at {clock.Elapsed.TotalSeconds:0.0} s: {job}");
        Assert.Equal("COMPLETED", job.GetProperty("status").GetString());
        Assert.Equal(dryRun, job.GetProperty("matched").GetInt64());
        Assert.Equal(dryRun, job.GetProperty("resent").GetInt64());

        var expected = seeded.ToHashSet();
        await Eventually.Async(() => receiver.Deliveries.Select(d => d.Id).Where(expected.Contains).Distinct().Count() == Deliveries, Budget(TimeSpan.FromMinutes(2)),
            () => $"every recovered delivery sent (received {receiver.Deliveries.Select(d => d.Id).Distinct().Count()}); host output:\n{Tail(restarted.Output)}");
        Dictionary<string, int> recorded = [];
        await Eventually.Async(async () => (recorded = await RecoverApi.RecordedAttemptsAsync(connectionString, webhookId, "recover")).Count == Deliveries,
            Budget(TimeSpan.FromMinutes(1)), () => $"every recover attempt recorded ({recorded.Count})");
        output.WriteLine($"All sent and recorded at {clock.Elapsed.TotalSeconds:0.0} s");

        // The job queued each delivery once: one recover attempt recorded for each.
        Assert.All(recorded, kv => Assert.True(kv.Value == 1, $"{kv.Key}: {kv.Value} recover attempts recorded"));
        // At-least-once delivery may repeat an attempt whose worker died between the POST and its record;
        // only those in flight at the kill may arrive twice, never a delivery the job put back twice.
        var posts = receiver.Deliveries.GroupBy(d => d.Id).ToDictionary(g => g.Key, g => g.Count());
        var twice = posts.Where(p => p.Value > 1).ToList();
        output.WriteLine($"{receiver.Deliveries.Count} POSTs for {Deliveries} deliveries; {twice.Count} arrived twice (in flight at the kill)");
        Assert.True(twice.Count <= 32, $"{twice.Count} deliveries arrived more than once; only those in flight at the kill may");
        Assert.All(twice, p => Assert.Equal(2, p.Value));
    }

    private static HttpClient Client(Uri host, string apiKey)
    {
        var client = new HttpClient { BaseAddress = host, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(40));
}
