using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using WebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookFunctions.Tests.Load;

/// <summary>
/// One key flooding a host process at 16 concurrency: it is held to its rate plus its burst, and
/// another merchant's latency meanwhile stays within twice its idle figure. Without the limit (rate
/// and burst set to a million) the same flood put the other merchant's p50 at 8.6 times idle here.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class RateLimitUnderLoadTests(ApiFixture fixture, ITestOutputHelper output)
{
    private const int Rate = 100;
    private const int Burst = 200;
    private const int Concurrency = 16;
    private const int Samples = 300;
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(20);

    private static HttpClient ClientFor(Uri baseAddress, string apiKey) => new()
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", apiKey) },
    };

    /// <summary>The victim's requests, one at a time at 50 a second (well under its own limit); milliseconds each.</summary>
    private static async Task<double[]> MeasureAsync(HttpClient client, string path)
    {
        var latencies = new double[Samples];
        for (var i = 0; i < Samples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(path);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(Pace);
        }

        return latencies;
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_flooding_key_is_held_to_rate_plus_burst_and_another_merchant_keeps_its_latency()
    {
        await using var host = await HostProcess.StartAsync(fixture.ConnectionString,
            $"Limits:RequestsPerSecondPerKey={Rate}", $"Limits:BurstPerKey={Burst}");
        var flooding = await fixture.Host.NewTenantAsync("Flooding merchant");
        var victim = await fixture.Host.NewTenantAsync("Other merchant");
        using var floodingClient = ClientFor(host.BaseAddress, flooding.ApiKey);
        using var victimClient = ClientFor(host.BaseAddress, victim.ApiKey);
        using var created = await victimClient.PostAsync(victim.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        using var floodTarget = await floodingClient.PostAsync(flooding.WebhooksPath, Http.Json(new { url = Http.UniqueUrl() }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Created, floodTarget.StatusCode);
        var path = created.Headers.Location!.OriginalString;
        var floodPath = floodTarget.Headers.Location!.OriginalString;
        for (var i = 0; i < 50; i++)
        {
            using var warm = await victimClient.GetAsync(path);
        }

        var idle = await MeasureAsync(victimClient, path);

        int accepted = 0, refused = 0, unexpected = 0, withoutRetryAfter = 0;
        using var stop = new CancellationTokenSource();
        var attack = Stopwatch.StartNew();
        var floods = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // A storage read each, as the victim's: unthrottled, the flood would queue the victim behind it.
                using var response = await floodingClient.GetAsync(floodPath);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        Interlocked.Increment(ref accepted);
                        break;
                    case HttpStatusCode.TooManyRequests:
                        Interlocked.Increment(ref refused);
                        if (response.Headers.RetryAfter is null)
                        {
                            Interlocked.Increment(ref withoutRetryAfter);
                        }

                        break;
                    default:
                        Interlocked.Increment(ref unexpected);
                        break;
                }
            }
        })).ToArray();

        double[] underAttack;
        try
        {
            underAttack = await MeasureAsync(victimClient, path);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(floods);
        }

        var seconds = attack.Elapsed.TotalSeconds;

        // Idle again afterwards: the machine is shared, so its load drifts; the idle figure is the mean of both sides of the flood.
        var idleAfter = await MeasureAsync(victimClient, path);
        var allowed = (Rate * seconds) + Burst;
        var idleP50 = (Percentile(idle, 0.5) + Percentile(idleAfter, 0.5)) / 2;
        var attackP50 = Percentile(underAttack, 0.5);
        output.WriteLine($"flood: GET webhook, {Concurrency} concurrent on one key for {seconds:F1} s: {accepted} accepted ({accepted / seconds:F0}/s), "
            + $"{refused} refused with 429 ({refused / seconds:F0}/s), {unexpected} other; allowed by rate {Rate}/s + burst {Burst}: {allowed:F0}");
        output.WriteLine($"other merchant GET webhook, {Samples} samples each: idle before p50 {Percentile(idle, 0.5):F2} ms p90 {Percentile(idle, 0.9):F2} ms, "
            + $"idle after p50 {Percentile(idleAfter, 0.5):F2} ms p90 {Percentile(idleAfter, 0.9):F2} ms; "
            + $"under flood p50 {attackP50:F2} ms p90 {Percentile(underAttack, 0.9):F2} ms; ratio p50 {attackP50 / idleP50:F2}");

        Assert.Equal(0, unexpected);
        Assert.Equal(0, withoutRetryAfter);
        Assert.True(refused > accepted, "the flood was not throttled");
        Assert.InRange(accepted, 0.85 * allowed, 1.05 * allowed);
        Assert.True(attackP50 <= 2 * idleP50, $"p50 under flood {attackP50:F2} ms is more than twice the idle {idleP50:F2} ms");
    }
}
