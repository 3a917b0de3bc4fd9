using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using WebhookFunctions.Tests.Deliveries;
using WebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookFunctions.Tests.Throttling;

/// <summary>
/// The scenario: two host processes, 16 workers each, on one Azurite and one pair of queues,
/// 2,000 events published at once to one webhook limited to 20 a second. The receiver is the judge.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class ThrottleAcrossHostsTests(ITestOutputHelper output)
{
    private const int Events = 2000;
    private const int Rate = 20;
    private const int MostAllowed = 22;
    private const int Publishers = 16;

    // The receiver's stamps are the judge; the hosts' own record of each attempt's start is printed beside them, so
    // a failure tells sending too close from stamping late. Stamping late was what failed here before: the test
    // process's thread pool starved for up to a second at a time (see ResponsiveThreadPool) and stamped 33-39
    // arrivals in one second from hosts that had started at most 21. Without any limit the same run measures 93.
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Two_host_processes_never_send_one_webhook_more_than_its_limit_in_any_second_and_every_delivery_arrives_with_one_attempt()
    {
        // A storage of its own: the run's Azurite holds every earlier test's webhooks, which each host's sweep would walk.
        var (azurite, connectionString) = await ApiFixture.StartAzuriteAsync();
        await using var _ = azurite;
        await using var receiver = await Receiver.StartAsync();
        await using var setup = await TestHost.StartAsync(connectionString, null, "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true");
        var tenant = await setup.NewTenantAsync();
        var webhookId = (await tenant.CreateWebhookAsync(new { url = receiver.Url("/fragile"), rateLimitPerSecond = Environment.GetEnvironmentVariable("NO_LIMIT") is null ? Rate : (int?)null })).Id();

        string[] settings =
        [
            "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true",
            "Delivery:RunWorkers=true", $"Delivery:QueuePrefix=r{Guid.NewGuid():N}", "Delivery:BatchSize=16",
        ];
        await using var one = await HostProcess.StartAsync(connectionString, settings);
        await using var two = await HostProcess.StartAsync(connectionString, settings);

        var published = new ConcurrentBag<string>();
        var next = 0;
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var progress = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(10_000, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: {published.Count} published, {receiver.Deliveries.Count} received");
            }
        });
        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(i => Task.Run(async () =>
        {
            using var client = new HttpClient { BaseAddress = (i % 2 == 0 ? one : two).BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
            for (var n = Interlocked.Increment(ref next); n <= Events; n = Interlocked.Increment(ref next))
            {
                published.Add(await PublishAsync(client, tenant, n));
            }
        })));
        output.WriteLine($"{Events} events published in {clock.Elapsed.TotalSeconds:F1} s");

        await Eventually.Async(() => receiver.Deliveries.Select(d => d.Id).Distinct().Count() >= Events, TimeSpan.FromSeconds(360),
            () => $"every event at the receiver (got {receiver.Deliveries.Count} after {clock.Elapsed.TotalSeconds:F0} s); host output:\n{Tail(one.Output)}");
        await Task.Delay(2000);
        await stop.CancelAsync();
        await progress;

        var arrivals = receiver.Deliveries.ToList();
        var most = Windows.MostInOneSecond(arrivals.Select(d => d.ReceivedAt));
        var sorted = arrivals.Select(d => d.ReceivedAt).Order().ToList();
        var gaps = sorted.Zip(sorted.Skip(1), (x, y) => y - x).Where(g => g > TimeSpan.FromSeconds(1)).ToList();
        output.WriteLine($"pauses over 1 s in arrivals (a stalled machine releases held work, or the receiver stamps a backlog at once): {gaps.Count}, "
            + $"longest {(gaps.Count == 0 ? 0 : gaps.Max().TotalSeconds):F1} s");
        var span = arrivals.Max(d => d.ReceivedAt) - arrivals.Min(d => d.ReceivedAt);
        var order = arrivals.OrderBy(d => d.ReceivedAt).Select(d => d.Id).ToList();
        var publishedOrder = published.Order(StringComparer.Ordinal).ToList();
        var displacement = order.Select((id, i) => Math.Abs(publishedOrder.IndexOf(id) - i)).Order().ToList();
        output.WriteLine("host one:\n" + Tail(one.Output) + "\nhost two:\n" + Tail(two.Output));
        output.WriteLine($"{arrivals.Count} POSTs for {Events} events over {span.TotalSeconds:F1} s ({arrivals.Count / span.TotalSeconds:F1}/s); "
            + $"most in any one-second window: {most} (limit {Rate}); order displacement p50 {displacement[displacement.Count / 2]}, "
            + $"p99 {displacement[displacement.Count * 99 / 100]}, max {displacement[^1]} places");

        var deliveries = await AllDeliveriesAsync(tenant, webhookId);
        var startOf = deliveries.Where(d => d.GetProperty("lastAttemptAt").ValueKind == JsonValueKind.String)
            .ToDictionary(d => d.GetProperty("eventId").GetString()!, d => d.GetProperty("lastAttemptAt").GetDateTimeOffset());
        output.WriteLine($"most attempt starts in any one-second window by the hosts' own record: {Windows.MostInOneSecond(startOf.Values)}");
        var lags = arrivals.Where(a => startOf.ContainsKey(a.Id)).Select(a => (a.ReceivedAt - startOf[a.Id]).TotalMilliseconds).Order().ToList();
        output.WriteLine($"from the attempt's recorded start to the receiver's stamp: p50 {lags[lags.Count / 2]:F0} ms, p99 {lags[lags.Count * 99 / 100]:F0} ms, "
            + $"max {lags[^1]:F0} ms (a late stamp bunches arrivals that were sent apart)");

        Assert.True(most <= MostAllowed, $"{most} attempts arrived within one second; the limit is {Rate}");
        // At least once: a POST whose recording storage lost is made again, and counts in the windows above like any other.
        Assert.Equal(published.Order(StringComparer.Ordinal), arrivals.Select(d => d.Id).Distinct().Order(StringComparer.Ordinal));

        Assert.Equal(Events, deliveries.Count);
        Assert.All(deliveries, d =>
        {
            Assert.Equal("SUCCEEDED", d.GetProperty("status").GetString());
            Assert.Equal(1, d.GetProperty("attempts").GetInt32());
        });
    }

    /// <summary>
    /// One event, published again under the same externalId if storage stalls (a 5xx on a loaded machine):
    /// the replay answers with the original event, so nothing is published twice.
    /// </summary>
    private static async Task<string> PublishAsync(HttpClient client, Tenant tenant, int n)
    {
        for (var tries = 1; ; tries++)
        {
            using var response = await client.PostAsync(tenant.EventsPath(),
                Http.Json(new { eventType = "session.completed", payload = new { n }, externalId = $"throttle-{n}" }));
            var body = await response.BodyAsync();
            if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
            {
                return body.Id();
            }

            Assert.True((int)response.StatusCode >= 500 && tries < 5, $"publish {n}: {(int)response.StatusCode} {body}");
            await Task.Delay(500);
        }
    }

    private static async Task<List<JsonElement>> AllDeliveriesAsync(Tenant tenant, string webhookId)
    {
        var all = new List<JsonElement>();
        string? token = null;
        do
        {
            var page = await tenant.GetJsonAsync(tenant.DeliveriesPath(webhookId) + "?limit=100" + (token is null ? "" : "&pageToken=" + Uri.EscapeDataString(token)));
            all.AddRange(page.GetProperty("items").EnumerateArray());
            token = page.GetProperty("nextPageToken").GetString();
        }
        while (token is not null);
        return all;
    }

    /// <summary>The host's warnings and errors, counted by their message (its first line after the level).</summary>
    private static string Tail(string text)
    {
        var lines = text.Split('\n');
        var counts = lines.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("warn:", StringComparison.Ordinal) || x.l.StartsWith("fail:", StringComparison.Ordinal))
            .Select(x => x.l + " " + (x.i + 1 < lines.Length ? lines[x.i + 1].Trim() : ""))
            .Select(l => l.Length > 160 ? l[..160] : l)
            .GroupBy(l => l).OrderByDescending(g => g.Count()).Take(15).Select(g => $"{g.Count()} × {g.Key}");
        return string.Join('\n', counts);
    }
}
