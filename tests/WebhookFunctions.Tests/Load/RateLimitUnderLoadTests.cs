using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using WebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookFunctions.Tests.Load;

/// <summary>
/// One key flooding a host process from 16 concurrent clients at twenty times its limit: it is held
/// to its rate plus its burst, and another merchant's latency meanwhile stays within twice its idle
/// figure. With the limit lifted (a million a second) the same flood put the other merchant's p50 at
/// 8.1 times idle here, and the flood's reads went through at 600 a second.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class RateLimitUnderLoadTests(ITestOutputHelper output)
{
    private const int Rate = 100;
    private const int Burst = 200;
    private const int Concurrency = 16;

    /// <summary>
    /// Twenty times the key's limit. Not an unpaced loop: on a shared 2-core machine the loop's own
    /// client takes as much CPU as the host (about 100 µs a request each, measured here), so at the
    /// ~5,000 requests a second it reaches, it measures the test machine rather than the limit.
    /// </summary>
    private const int OfferedPerSecond = 2_000;
    private const int Rounds = 3;
    private const int SamplesPerPhase = 100;

    /// <summary>25 ms between the victim's requests: 40 a second, well under its own limit, and an idle phase (2.5 s or more) refills the flooding key's burst.</summary>
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(25);

    private sealed class FloodCounts
    {
        public int Accepted;
        public int Refused;
        public int Unexpected;
        public int WithoutRetryAfter;
    }

    private static HttpClient ClientFor(Uri baseAddress, string apiKey) => new()
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", apiKey) },
    };

    /// <summary>
    /// The victim's requests, one at a time; milliseconds each. Sent synchronously from a thread of its
    /// own: the flood's client shares this process, and its work must not queue the victim's on the
    /// thread pool, as an attacker's machines would not.
    /// </summary>
    private static Task<double[]> MeasureAsync(HttpClient client, string path, int samples = SamplesPerPhase) => Task.Factory.StartNew(() =>
    {
        var latencies = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            var started = Stopwatch.GetTimestamp();
            using var response = client.Send(request);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Thread.Sleep(Pace);
        }

        return latencies;
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// Floods <paramref name="floodPath"/> from <see cref="Concurrency"/> threads, together offering
    /// <see cref="OfferedPerSecond"/> requests a second, while <paramref name="during"/> runs; returns how
    /// long the flood lasted.
    /// </summary>
    private static async Task<(T Result, TimeSpan Flooded)> FloodWhileAsync<T>(HttpClient flooding, string floodPath, FloodCounts counts, Func<Task<T>> during)
    {
        using var stop = new CancellationTokenSource();
        var elapsed = Stopwatch.StartNew();
        var interval = TimeSpan.FromSeconds((double)Concurrency / OfferedPerSecond);
        var floods = Enumerable.Range(0, Concurrency).Select(worker => new Thread(() =>
        {
            var due = elapsed.Elapsed + (interval * worker / Concurrency);
            while (!stop.IsCancellationRequested)
            {
                if (due > elapsed.Elapsed)
                {
                    Thread.Sleep(due - elapsed.Elapsed);
                }

                due += interval;

                // A storage read each, as the victim's: unthrottled, the flood would queue the victim behind it.
                using var request = new HttpRequestMessage(HttpMethod.Get, floodPath);
                using var response = flooding.Send(request);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        Interlocked.Increment(ref counts.Accepted);
                        break;
                    case HttpStatusCode.TooManyRequests:
                        Interlocked.Increment(ref counts.Refused);
                        if (response.Headers.RetryAfter is null)
                        {
                            Interlocked.Increment(ref counts.WithoutRetryAfter);
                        }

                        break;
                    default:
                        Interlocked.Increment(ref counts.Unexpected);
                        break;
                }
            }
        }) { IsBackground = true }).ToList();
        floods.ForEach(thread => thread.Start());

        try
        {
            return (await during(), elapsed.Elapsed);
        }
        finally
        {
            await stop.CancelAsync();
            Assert.All(floods, thread => Assert.True(thread.Join(TimeSpan.FromSeconds(35)), "a flood thread did not stop"));
        }
    }

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_flooding_key_is_held_to_rate_plus_burst_and_another_merchant_keeps_its_latency()
    {
        // A storage of its own: by the time this runs, the run's Azurite holds every earlier test's rows
        // and the queues of their delivery hosts, and its one Node thread is what both merchants' reads wait on.
        var (azurite, connectionString) = await ApiFixture.StartAzuriteAsync();
        await using var _ = azurite;
        await using var setup = await TestHost.StartAsync(connectionString, null);
        await using var host = await HostProcess.StartAsync(connectionString,
            $"Limits:RequestsPerSecondPerKey={Rate}", $"Limits:BurstPerKey={Burst}");
        var flooding = await setup.NewTenantAsync("Flooding merchant");
        var victim = await setup.NewTenantAsync("Other merchant");
        var warming = await setup.NewTenantAsync("Warm-up merchant");
        using var floodingClient = ClientFor(host.BaseAddress, flooding.ApiKey);
        using var victimClient = ClientFor(host.BaseAddress, victim.ApiKey);
        using var warmingClient = ClientFor(host.BaseAddress, warming.ApiKey);
        using var created = await victimClient.PostAsync(victim.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        using var floodTarget = await floodingClient.PostAsync(flooding.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Created, floodTarget.StatusCode);
        var path = created.Headers.Location!.OriginalString;
        var floodPath = floodTarget.Headers.Location!.OriginalString;

        // A fresh process runs unoptimised code at first: warm both the served and the refused path
        // (a third key past its burst) before anything is measured.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 250; i++)
            {
                using var warm = await warmingClient.GetAsync(path.Replace(victim.ApplicationId, warming.ApplicationId, StringComparison.Ordinal));
            }
        })));
        await MeasureAsync(victimClient, path);

        // Idle and flooded phases alternate, so the drift of a shared machine's load falls on both alike.
        var idle = new List<double>();
        var flooded = new List<double>();
        var counts = new FloodCounts();
        var floodTime = TimeSpan.Zero;
        var roundRatios = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            var idleRound = await MeasureAsync(victimClient, path);
            idle.AddRange(idleRound);
            var (latencies, lasted) = await FloodWhileAsync(floodingClient, floodPath, counts, () => MeasureAsync(victimClient, path));
            flooded.AddRange(latencies);
            floodTime += lasted;
            roundRatios.Add(Percentile(latencies, 0.5) / Percentile(idleRound, 0.5));
        }

        // Each idle phase (2.5 s or more) refills the burst, so each flooded phase starts with it. The
        // framework's token bucket, full and idle, does not advance its refill clock, so the first refill
        // after a flood begins also credits the idle time: up to one more burst a phase.
        var allowed = (Rate * floodTime.TotalSeconds) + (Burst * Rounds);
        var mostAllowed = allowed + (Burst * Rounds);
        var idleP50 = Percentile(idle, 0.5);
        var floodedP50 = Percentile(flooded, 0.5);
        output.WriteLine($"flood: GET webhook, {Concurrency} concurrent on one key offering {OfferedPerSecond}/s, {Rounds} phases, {floodTime.TotalSeconds:F1} s in all: "
            + $"{counts.Accepted} accepted ({counts.Accepted / floodTime.TotalSeconds:F0}/s), {counts.Refused} refused with 429 "
            + $"({counts.Refused / floodTime.TotalSeconds:F0}/s), {counts.Unexpected} other; allowed by rate {Rate}/s + burst {Burst} a phase: {allowed:F0} (at most {mostAllowed:F0})");
        output.WriteLine($"other merchant GET webhook, {idle.Count} samples each: idle p50 {idleP50:F2} ms p90 {Percentile(idle, 0.9):F2} ms; "
            + $"under flood p50 {floodedP50:F2} ms p90 {Percentile(flooded, 0.9):F2} ms; ratio p50 {floodedP50 / idleP50:F2}");

        Assert.Equal(0, counts.Unexpected);
        Assert.Equal(0, counts.WithoutRetryAfter);
        Assert.True(counts.Refused > counts.Accepted, "the flood was not throttled");
        Assert.InRange(counts.Accepted, 0.85 * allowed, mostAllowed);
        // Judged on the best idle/flooded pair: another process's load on a shared machine can only make a
        // round look worse, while a limiter that does not protect the other merchant (8x without it,
        // measured) fails every round.
        output.WriteLine("p50 ratio per round: " + string.Join(", ", roundRatios.Select(r => r.ToString("F2", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.True(roundRatios.Min() <= 2, $"p50 under flood was more than twice the idle p50 in every round ({string.Join(", ", roundRatios.Select(r => r.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))}); overall {floodedP50:F2} vs {idleP50:F2} ms");
    }
}
