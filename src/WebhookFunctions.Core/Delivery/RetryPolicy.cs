using Microsoft.Extensions.Options;

namespace WebhookFunctions.Core.Delivery;

/// <summary>When the next scheduled attempt of a delivery comes due, if any.</summary>
public sealed class RetryPolicy(IOptions<DeliveryOptions> options)
{
    private readonly IReadOnlyList<TimeSpan> _schedule = options.Value.Schedule;
    private readonly double _jitter = options.Value.RetryJitter;

    /// <summary>Scheduled attempts a delivery gets in all: the first, then one per delay.</summary>
    public int MaxAttempts => _schedule.Count + 1;

    /// <summary>
    /// The wait after failed scheduled attempt <paramref name="attempt"/> (1-based), or null when the
    /// schedule has run out. A receiver's Retry-After is honoured as a minimum.
    /// </summary>
    public TimeSpan? DelayAfter(int attempt, TimeSpan? retryAfter)
    {
        if (attempt >= MaxAttempts)
        {
            return null;
        }

        var delay = Jittered(_schedule[attempt - 1]);
        return retryAfter is { } minimum && minimum > delay ? minimum : delay;
    }

    /// <summary>The delay varied uniformly within ±jitter, so the retries of one outage spread out.</summary>
    public TimeSpan Jittered(TimeSpan delay) =>
        delay * (1 + (_jitter * ((Random.Shared.NextDouble() * 2) - 1)));
}
