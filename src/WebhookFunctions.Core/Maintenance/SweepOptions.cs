using System.ComponentModel.DataAnnotations;

namespace WebhookFunctions.Core.Maintenance;

/// <summary>The orphan-secret sweep and the idempotency purge that runs with it (section <c>Sweep</c>).</summary>
public sealed class SweepOptions
{
    public const string Section = "Sweep";

    /// <summary>How often the standalone host sweeps. The Functions app sweeps on its timer's schedule.</summary>
    [Range(1, 7 * 24 * 3600)]
    public int IntervalSeconds { get; set; } = 3600;

    /// <summary>
    /// A secret younger than this is never swept: its create may still be writing the record. Far
    /// above the request deadline, so only secrets whose create has certainly ended qualify.
    /// </summary>
    [Range(1, 7 * 24 * 3600)]
    public int MinimumAgeSeconds { get; set; } = 600;
}
