using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace WebhookFunctions.Core.Delivery;

/// <summary>Delivery settings (section <c>Delivery</c>). Tests shorten the schedule here, never in code.</summary>
public sealed class DeliveryOptions : IValidatableObject
{
    public const string Section = "Delivery";

    /// <summary>Delays before each retry after the first attempt: 8 attempts over about 28 hours by default.</summary>
    public string RetrySchedule { get; set; } = "5s,5m,30m,2h,5h,10h,10h";

    /// <summary>Each delay is varied by up to this fraction either way, so retries of one outage do not arrive together.</summary>
    [Range(0.0, 0.9)]
    public double RetryJitter { get; set; } = 0.2;

    [Range(1, 120)]
    public int TimeoutSeconds { get; set; } = 15;

    /// <summary>How long attempts must have failed without a success before the webhook is disabled.</summary>
    public string DisableAfter { get; set; } = "5d";

    [Range(1, 100_000)]
    public int DisableAfterFailures { get; set; } = 10;

    [Range(1, 3650)]
    public int RetentionDays { get; set; } = 30;

    /// <summary>How far past due a pending delivery or fan-out may be before the sweep re-drives it.</summary>
    [Range(1, 86_400)]
    public int RedriveAfterSeconds { get; set; } = 60;

    /// <summary>How often the standalone host runs the sweep (the Functions app uses a timer).</summary>
    [Range(1, 86_400)]
    public int SweepIntervalSeconds { get; set; } = 60;

    /// <summary>Messages the standalone host's workers take per queue poll, and so work on at once.</summary>
    [Range(1, 32)]
    public int BatchSize { get; set; } = 16;

    /// <summary>Deliveries a recover job reads and puts back per queue message: one page's work, and all it holds in memory.</summary>
    [Range(10, 1000)]
    public int RecoverPageSize { get; set; } = 500;

    /// <summary>Dequeues after which a message is moved to the poison queue (as the Functions queue trigger does).</summary>
    [Range(1, 100)]
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary>
    /// Queue names are <c>{prefix}-fanout</c> and <c>{prefix}-attempts</c>. The Functions app's triggers
    /// name the default queues, so change it only for hosts that run their own workers (tests, side by side runs).
    /// </summary>
    [RegularExpression("^[a-z0-9]([a-z0-9-]{1,38}[a-z0-9])?$")]
    public string QueuePrefix { get; set; } = DeliveryQueues.DefaultPrefix;

    /// <summary>Whether the standalone host runs the queue workers and the sweep (the Functions app uses triggers).</summary>
    public bool RunWorkers { get; set; } = true;

    public IReadOnlyList<TimeSpan> Schedule => Durations.ParseList(RetrySchedule);

    public TimeSpan DisableAfterDuration => Durations.Parse(DisableAfter);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Durations.TryParseList(RetrySchedule, out _))
        {
            yield return new ValidationResult("Delivery:RetrySchedule must be a comma-separated list of durations such as 5s,5m,2h,1d", [nameof(RetrySchedule)]);
        }

        if (!Durations.TryParse(DisableAfter, out _))
        {
            yield return new ValidationResult("Delivery:DisableAfter must be a duration such as 5d or 36h", [nameof(DisableAfter)]);
        }
    }
}

/// <summary>Event settings (section <c>Events</c>).</summary>
public sealed class EventOptions
{
    public const string Section = "Events";

    [Range(1024, 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 256 * 1024;
}

/// <summary>Durations written as a number and a unit: <c>250ms</c>, <c>5s</c>, <c>5m</c>, <c>2h</c>, <c>5d</c>.</summary>
public static class Durations
{
    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not a duration such as 5s, 5m, 2h or 5d.");

    public static IReadOnlyList<TimeSpan> ParseList(string text) =>
        TryParseList(text, out var values) ? values : throw new FormatException($"'{text}' is not a list of durations such as 5s,5m,2h.");

    public static bool TryParseList(string? text, out IReadOnlyList<TimeSpan> values)
    {
        var list = new List<TimeSpan>();
        values = list;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!TryParse(part, out var value))
            {
                return false;
            }

            list.Add(value);
        }

        return true;
    }

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], TimeSpan.FromMilliseconds(1))
            : text[^1] switch
            {
                's' => (text[..^1], TimeSpan.FromSeconds(1)),
                'm' => (text[..^1], TimeSpan.FromMinutes(1)),
                'h' => (text[..^1], TimeSpan.FromHours(1)),
                'd' => (text[..^1], TimeSpan.FromDays(1)),
                _ => (string.Empty, TimeSpan.Zero),
            };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount < 0)
        {
            return false;
        }

        value = unit * amount;
        return true;
    }
}
