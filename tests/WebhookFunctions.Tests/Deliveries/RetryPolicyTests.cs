using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Delivery;

namespace WebhookFunctions.Tests.Deliveries;

public sealed class RetryPolicyTests
{
    private static RetryPolicy Policy(string schedule, double jitter) =>
        new(Options.Create(new DeliveryOptions { RetrySchedule = schedule, RetryJitter = jitter }));

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.2)]
    public void Jittered_delays_stay_within_the_bounds_and_spread_across_them(double jitter)
    {
        var policy = Policy("400ms", jitter);
        var delay = TimeSpan.FromMilliseconds(400);
        var samples = Enumerable.Range(0, 20_000).Select(_ => policy.Jittered(delay).TotalMilliseconds).ToList();

        var low = 400 * (1 - jitter);
        var high = 400 * (1 + jitter);
        Assert.All(samples, s => Assert.InRange(s, low, high));
        // Uniform over the band: both ends are reached, and the mean sits in the middle.
        var band = high - low;
        Assert.InRange(samples.Min(), low, low + (band * 0.01));
        Assert.InRange(samples.Max(), high - (band * 0.01), high);
        Assert.InRange(samples.Average(), 400 - (band * 0.02), 400 + (band * 0.02));
        Assert.InRange(samples.Count(s => s < 400), 9_000, 11_000);
    }

    [Fact]
    public void Without_jitter_every_delay_is_the_schedule_itself()
    {
        var policy = Policy("5s,5m", 0);

        Assert.Equal(TimeSpan.FromSeconds(5), policy.DelayAfter(1, null));
        Assert.Equal(TimeSpan.FromMinutes(5), policy.DelayAfter(2, null));
    }

    [Fact]
    public void The_default_schedule_gives_eight_attempts_and_then_no_more()
    {
        var policy = Policy(new DeliveryOptions().RetrySchedule, 0.2);

        Assert.Equal(8, policy.MaxAttempts);
        Assert.All(Enumerable.Range(1, 7), n => Assert.NotNull(policy.DelayAfter(n, null)));
        Assert.Null(policy.DelayAfter(8, null));
        Assert.Null(policy.DelayAfter(8, TimeSpan.FromSeconds(1)));
        var total = Enumerable.Range(1, 7).Select(n => Policy(new DeliveryOptions().RetrySchedule, 0).DelayAfter(n, null)!.Value).Aggregate(TimeSpan.Zero, (a, b) => a + b);
        Assert.InRange(total.TotalHours, 27, 29);
    }

    [Fact]
    public void A_retry_after_longer_than_the_jittered_delay_is_the_wait_and_a_shorter_one_changes_nothing()
    {
        var policy = Policy("5s,5m", 0.2);

        Assert.Equal(TimeSpan.FromMinutes(2), policy.DelayAfter(1, TimeSpan.FromMinutes(2)));
        Assert.InRange(policy.DelayAfter(1, TimeSpan.FromSeconds(1))!.Value.TotalSeconds, 4, 6);
    }
}
